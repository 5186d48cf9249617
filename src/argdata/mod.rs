//! The argdata codec: CloudABI's binary argument tree (filled by the argdata issue).
