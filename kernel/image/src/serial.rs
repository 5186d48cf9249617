//! COM1, the 16550 UART at I/O port 0x3F8: the kernel's log and the programs' console.
//!
//! QEMU's `-serial stdio` connects it to the runner's terminal. Output waits for the
//! transmit register to be empty; input is polled (no interrupts in this kernel).

use core::fmt;

use spin::Mutex;

use crate::cpu::{inb, outb};

/// The I/O base of COM1.
const COM1: u16 = 0x3F8;

/// The UART's registers, as offsets from the base.
const DATA: u16 = 0;
const INTERRUPT_ENABLE: u16 = 1;
const FIFO_CONTROL: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;

/// Line status: a received byte is waiting; the transmit register is empty.
const DATA_READY: u8 = 0x01;
const TRANSMIT_EMPTY: u8 = 0x20;

/// A 16550 UART.
pub struct SerialPort {
    base: u16,
}

impl SerialPort {
    /// Sets 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on, no interrupts.
    fn init(base: u16) -> SerialPort {
        // SAFETY: the documented 16550 initialisation sequence on COM1's registers.
        unsafe {
            outb(base + INTERRUPT_ENABLE, 0x00);
            outb(base + LINE_CONTROL, 0x80); // divisor latch on
            outb(base + DATA, 0x01); // divisor 1: 115200 baud
            outb(base + INTERRUPT_ENABLE, 0x00);
            outb(base + LINE_CONTROL, 0x03); // 8N1, latch off
            outb(base + FIFO_CONTROL, 0xC7);
            outb(base + MODEM_CONTROL, 0x03); // DTR, RTS
        }
        SerialPort { base }
    }

    /// Sends one byte, waiting until the UART takes it.
    pub fn send(&mut self, byte: u8) {
        // SAFETY: reading the line status and writing the data register of the UART.
        unsafe {
            while inb(self.base + LINE_STATUS) & TRANSMIT_EMPTY == 0 {}
            outb(self.base + DATA, byte);
        }
    }

    /// A received byte, if one is waiting.
    pub fn try_receive(&mut self) -> Option<u8> {
        // SAFETY: reading the line status and data registers of the UART.
        unsafe {
            if inb(self.base + LINE_STATUS) & DATA_READY != 0 {
                Some(inb(self.base + DATA))
            } else {
                None
            }
        }
    }
}

impl fmt::Write for SerialPort {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            self.send(b);
        }
        Ok(())
    }
}

/// COM1, once [`init`] ran.
pub static COM1_PORT: Mutex<Option<SerialPort>> = Mutex::new(None);

/// Initialises COM1.
pub fn init() {
    *COM1_PORT.lock() = Some(SerialPort::init(COM1));
}

/// Runs `f` on COM1 (does nothing before [`init`]).
pub fn with_port<R>(f: impl FnOnce(&mut SerialPort) -> R) -> Option<R> {
    COM1_PORT.lock().as_mut().map(f)
}

/// Prints formatted text on COM1.
pub fn print(args: fmt::Arguments<'_>) {
    with_port(|p| fmt::Write::write_fmt(p, args));
}

/// Prints from the panic handler: does not take the lock, which the panicking code may
/// hold.
pub fn emergency_print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut SerialPort { base: COM1 }, args);
}

/// `println!` for the kernel's log on COM1.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => {
        $crate::serial::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
