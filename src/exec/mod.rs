//! `exec_copyin_data_fds` and the `proc_exec` driver (filled by the exec issue).
