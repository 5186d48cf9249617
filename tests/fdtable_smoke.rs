use std::sync::Arc;

use capexec::fdtable::{Fd, FdRights, FdTable, File, FileType};

struct F;
impl File for F {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

fn fd(n: i32) -> Fd {
    Fd::from_raw(n).unwrap()
}

#[test]
fn million_open_then_close_3_realloc_gets_3() {
    let f = Arc::new(F);
    let mut t: FdTable<F> = FdTable::with_limit(1 << 21);
    for i in 0..(1 << 20) {
        assert_eq!(t.open(f.clone(), FdRights::ALL).unwrap(), fd(i));
    }
    drop(t.close(fd(3)).unwrap());
    assert_eq!(t.lowest_free(Fd::STDIN).unwrap(), fd(3));
    assert_eq!(t.open(f.clone(), FdRights::ALL).unwrap(), fd(3));
    assert_eq!(t.open(f.clone(), FdRights::ALL).unwrap(), fd(1 << 20));
    drop(t.close(fd((1 << 20) - 2)).unwrap());
    assert_eq!(t.lowest_free(Fd::STDIN).unwrap(), fd((1 << 20) - 2));
    assert_eq!(t.lastfile(), Some(fd(1 << 20)));
    assert_eq!(Arc::strong_count(&f), 1 + t.len());
}
