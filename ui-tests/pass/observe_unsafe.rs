// `unsafe fn`: its body keeps the right to use unsafe operations, in an
// `unsafe {}` block (edition 2024) or, for older code, directly; and an
// `unsafe` method, sync and async.
#![deny(warnings)]

use o11y::observe;

/// # Safety
/// `ptr` is valid for reads.
#[observe]
unsafe fn read(ptr: *const u32) -> u32 {
    unsafe { *ptr }
}

/// # Safety
/// `ptr` is valid for reads.
#[observe]
#[allow(unsafe_op_in_unsafe_fn)]
unsafe fn read_directly(ptr: *const u32) -> u32 {
    *ptr
}

struct Buffer(Vec<u8>);

impl Buffer {
    /// # Safety
    /// `index` is in bounds.
    #[observe(args)]
    unsafe fn get_unchecked(&self, index: usize) -> u8 {
        unsafe { *self.0.get_unchecked(index) }
    }

    /// # Safety
    /// `index` is in bounds.
    #[observe]
    async unsafe fn get_async(&self, index: usize) -> u8 {
        unsafe { *self.0.get_unchecked(index) }
    }
}

fn main() {
    let value = 7_u32;
    assert_eq!(unsafe { read(&value) }, 7);
    assert_eq!(unsafe { read_directly(&value) }, 7);
    let buffer = Buffer(vec![1, 2]);
    assert_eq!(unsafe { buffer.get_unchecked(1) }, 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(unsafe { buffer.get_async(0) }), 1);
}
