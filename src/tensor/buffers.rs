//! Large value buffers kept from one run of a plan for the next. A training step frees and
//! allocates the same large tensors every time (a convolution's output, its gradient); handed
//! back to the system allocator, each would come back as fresh pages, faulted in and zeroed by
//! the kernel on first touch. A plan keeps a few of them instead: the executor gives back the
//! unshared inputs a kernel leaves behind, and kernels ask for output buffers of a length.

use super::{Element, Tensor};
use std::sync::Mutex;

/// Values smaller than this many elements go back to the allocator, which serves them well.
const MIN_ELEMENTS: usize = 1 << 15;

/// At most this many buffers are kept.
const MAX_BUFFERS: usize = 24;

/// The buffers a plan keeps between runs: unshared tensors of at least [`MIN_ELEMENTS`].
#[derive(Default)]
pub(crate) struct BufferPool {
    free: Mutex<Vec<Tensor>>,
}

impl BufferPool {
    /// Keeps `t` for a later [`BufferPool::take`] when it is large, unshared and owns exactly its
    /// elements; otherwise drops it.
    pub(crate) fn give(&self, mut t: Tensor) {
        if t.len() < MIN_ELEMENTS || !crate::with_array!(&mut t, a => a.is_unique() && a.is_standard_layout()) {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < MAX_BUFFERS {
            free.push(t);
        }
    }

    /// A kept buffer of exactly `len` elements of `T`, if there is one. Its contents are the
    /// values of an earlier run.
    pub(crate) fn take<T: Element>(&self, len: usize) -> Option<Vec<T>> {
        if len < MIN_ELEMENTS {
            return None;
        }
        let t = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let at = free.iter().position(|t| t.dtype() == T::DTYPE && t.len() == len)?;
            free.swap_remove(at)
        };
        let (data, offset) = T::unwrap(t).ok()?.into_owned().into_raw_vec_and_offset();
        (offset.unwrap_or(0) == 0 && data.len() == len).then_some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_large_unshared_buffers_and_hands_them_out_by_length() {
        let pool = BufferPool::default();
        let big = Tensor::from_vec(&[MIN_ELEMENTS], vec![1.0f32; MIN_ELEMENTS]).unwrap();
        let address = big.array::<f32>().unwrap().as_ptr();
        let shared = big.clone();
        pool.give(big);
        assert!(pool.take::<f32>(MIN_ELEMENTS).is_none(), "a buffer still shared is not kept");
        pool.give(shared);
        assert!(pool.take::<f64>(MIN_ELEMENTS).is_none(), "another element type");
        assert!(pool.take::<f32>(MIN_ELEMENTS + 1).is_none(), "another length");
        let again = pool.take::<f32>(MIN_ELEMENTS).unwrap();
        assert_eq!((again.as_ptr(), again.len()), (address, MIN_ELEMENTS));
        assert!(pool.take::<f32>(MIN_ELEMENTS).is_none(), "each buffer is handed out once");
        pool.give(Tensor::from_vec(&[4], vec![0.0f32; 4]).unwrap());
        assert!(pool.free.lock().unwrap().is_empty(), "small values are not kept");
    }
}
