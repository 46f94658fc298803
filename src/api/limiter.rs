//! Adaptive concurrency (AIMD), one per (account, region): the service limits each region apart.
//!
//! `max_concurrency` is the ceiling (per region). When the service throttles, the number of
//! requests in flight halves; each success grows it again by about one per round trip. A throttle
//! answered to a request sent before the last cut does not cut again, so one burst of refusals
//! costs one halving, not a collapse to a single request.

use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Limiter {
    sem: Semaphore,
    max: usize,
    state: Mutex<State>,
}

struct State {
    /// The current limit; fractional so that growth is about +1 per round trip.
    limit: f64,
    /// Permits the semaphore currently represents (in flight + available).
    granted: usize,
    /// Permits to drop as they come back, because a cut found them in flight.
    debt: usize,
    /// Bumped at every cut.
    generation: u64,
    in_flight: usize,
    max_in_flight: usize,
}

/// A slot for one request; hand it back with [`Limiter::done`].
pub struct Slot<'a> {
    permit: SemaphorePermit<'a>,
    generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Success,
    Throttled,
    /// Any other failure: neither grows nor cuts.
    Other,
}

impl Limiter {
    pub fn new(max: usize) -> Limiter {
        let max = max.max(1);
        Limiter {
            sem: Semaphore::new(max),
            max,
            state: Mutex::new(State {
                limit: max as f64,
                granted: max,
                debt: 0,
                generation: 0,
                in_flight: 0,
                max_in_flight: 0,
            }),
        }
    }

    pub async fn acquire(&self) -> Slot<'_> {
        let permit = self
            .sem
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut st = self.state.lock().expect("limiter lock");
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        Slot {
            permit,
            generation: st.generation,
        }
    }

    pub fn done(&self, slot: Slot<'_>, outcome: Answered) {
        let mut st = self.state.lock().expect("limiter lock");
        st.in_flight -= 1;
        match outcome {
            Answered::Success => st.limit = (st.limit + 1.0 / st.limit).min(self.max as f64),
            Answered::Throttled if slot.generation == st.generation => {
                st.generation += 1;
                st.limit = (st.limit / 2.0).max(1.0);
                let target = st.limit.floor() as usize;
                if st.granted > target {
                    let excess = st.granted - target;
                    let removed = self.sem.forget_permits(excess);
                    st.debt += excess - removed;
                    st.granted = target;
                }
            }
            _ => {}
        }
        if st.debt > 0 {
            st.debt -= 1;
            slot.permit.forget();
        } else {
            drop(slot.permit);
        }
        let target = st.limit.floor() as usize;
        if target > st.granted {
            // Pay debt first: those permits are still out and will be dropped on return.
            let grow = target - st.granted;
            let from_debt = grow.min(st.debt);
            st.debt -= from_debt;
            self.sem.add_permits(grow - from_debt);
            st.granted = target;
        }
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("limiter lock").max_in_flight
    }

    pub fn current_limit(&self) -> usize {
        self.state.lock().expect("limiter lock").limit.floor() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_burst_of_throttles_halves_once_and_success_grows_back() {
        let l = Limiter::new(16);
        let slots: Vec<_> = futures_lite_join(&l, 16).await;
        for s in slots {
            l.done(s, Answered::Throttled);
        }
        assert_eq!(
            l.current_limit(),
            8,
            "a burst sent in one generation cuts once"
        );
        assert_eq!(l.sem.available_permits(), 8);
        for _ in 0..200 {
            let s = l.acquire().await;
            l.done(s, Answered::Success);
        }
        assert_eq!(l.current_limit(), 16);
        assert_eq!(l.sem.available_permits(), 16);
        assert_eq!(l.max_in_flight(), 16);
    }

    #[tokio::test]
    async fn cut_while_permits_are_out_is_paid_back_on_return() {
        let l = Limiter::new(4);
        let a = l.acquire().await;
        let b = l.acquire().await;
        let c = l.acquire().await;
        l.done(a, Answered::Throttled); // limit 2, one available permit forgotten, one in debt
        assert_eq!(l.current_limit(), 2);
        l.done(b, Answered::Other); // repays the debt
        assert_eq!(l.sem.available_permits(), 1);
        l.done(c, Answered::Other);
        assert_eq!(l.sem.available_permits(), 2);
    }

    /// Polls `f` once: its output if it is ready at once, `None` if it would wait.
    fn now<F: std::future::Future>(f: F) -> Option<F::Output> {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }

    #[test]
    fn no_more_slots_than_the_limit_and_a_returned_one_is_free_again() {
        let l = Limiter::new(3);
        let a = now(l.acquire()).expect("a first slot");
        let b = now(l.acquire()).expect("a second slot");
        let c = now(l.acquire()).expect("a third slot");
        assert!(now(l.acquire()).is_none(), "a fourth waits");
        assert_eq!(l.max_in_flight(), 3);
        l.done(b, Answered::Success);
        let d = now(l.acquire()).expect("the returned slot");
        assert!(now(l.acquire()).is_none());
        for s in [a, c, d] {
            l.done(s, Answered::Other);
        }
        assert_eq!(l.max_in_flight(), 3, "the most at once, not the last count");
        assert_eq!(l.current_limit(), 3);
    }

    #[test]
    fn a_limit_of_zero_is_one() {
        let l = Limiter::new(0);
        assert_eq!(l.current_limit(), 1);
        let a = now(l.acquire()).expect("one slot");
        assert!(now(l.acquire()).is_none());
        l.done(a, Answered::Success);
        assert_eq!(l.current_limit(), 1, "never above the maximum");
    }

    #[test]
    fn success_grows_the_limit_by_about_one_per_round_trip() {
        let l = Limiter::new(16);
        let s = now(l.acquire()).unwrap();
        l.done(s, Answered::Throttled);
        assert_eq!(l.current_limit(), 8);
        // A round trip at a limit of 8 is 8 requests: the limit is then about 9.
        let mut limits = Vec::new();
        for _ in 0..30 {
            let s = now(l.acquire()).unwrap();
            l.done(s, Answered::Success);
            limits.push(l.current_limit());
        }
        assert_eq!(limits[7], 8, "{limits:?}");
        assert_eq!(limits[8], 9, "{limits:?}");
        assert_eq!(limits[18], 10, "{limits:?}");
        assert_eq!(limits[29], 11, "{limits:?}");
        assert_eq!(
            l.sem.available_permits(),
            11,
            "the semaphore follows the limit"
        );
    }

    #[test]
    fn a_throttle_answered_to_a_request_sent_before_the_cut_does_not_cut_again() {
        let l = Limiter::new(8);
        let a = now(l.acquire()).unwrap();
        let b = now(l.acquire()).unwrap();
        l.done(a, Answered::Throttled);
        assert_eq!(l.current_limit(), 4);
        l.done(b, Answered::Throttled);
        assert_eq!(l.current_limit(), 4, "b was sent before the cut");
        let c = now(l.acquire()).unwrap();
        l.done(c, Answered::Throttled);
        assert_eq!(l.current_limit(), 2, "c was sent after it");
        assert_eq!(l.sem.available_permits(), 2);
    }

    #[test]
    fn the_limit_never_falls_below_one_and_other_failures_change_nothing() {
        let l = Limiter::new(2);
        for _ in 0..5 {
            let s = now(l.acquire()).unwrap();
            l.done(s, Answered::Throttled);
            assert_eq!(l.current_limit(), 1);
            assert_eq!(l.sem.available_permits(), 1);
        }
        for _ in 0..10 {
            let s = now(l.acquire()).unwrap();
            l.done(s, Answered::Other);
        }
        assert_eq!(l.current_limit(), 1);
        assert_eq!(l.sem.available_permits(), 1);
        let s = now(l.acquire()).unwrap();
        assert!(now(l.acquire()).is_none());
        l.done(s, Answered::Success);
    }

    async fn futures_lite_join(l: &Limiter, n: usize) -> Vec<Slot<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await);
        }
        v
    }
}
