//! Conversions between CloudABI error numbers and native ones (filled by a helper).
