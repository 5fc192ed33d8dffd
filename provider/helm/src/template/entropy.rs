//! Where random and time functions draw from. Helm draws from the operating system and the
//! wall clock, so every render differs; a release that renders on every plan needs the same
//! password and the same webhook certificate each time, so a seeded source draws from a
//! secret seed and a fixed clock instead.
//!
//! A seeded draw depends on the seed, the call (function and arguments) and how many times
//! that same call was made before in this render, not on the order of unrelated calls: a
//! chart that gains a `randAlphaNum 32` somewhere keeps the `randAlphaNum 16` it had.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// A render's source of randomness and of the current time.
#[derive(Debug, Default)]
pub struct Entropy {
    seeded: Option<Seeded>,
    /// Set by every draw; the renderer clears it before each template file to learn which
    /// files' output depends on randomness or time.
    pub drawn: bool,
}

#[derive(Debug)]
struct Seeded {
    seed: [u8; 32],
    clock: OffsetDateTime,
    calls: HashMap<String, u64>,
}

impl Entropy {
    /// Helm's behaviour: the operating system's generator and the wall clock.
    pub fn system() -> Entropy {
        Entropy::default()
    }

    /// Draws derived from `seed`, and `clock` as the current time.
    pub fn seeded(seed: [u8; 32], clock: OffsetDateTime) -> Entropy {
        Entropy { seeded: Some(Seeded { seed, clock, calls: HashMap::new() }), drawn: false }
    }

    /// Fills `buf` with random bytes for the call `call` (a function name and its arguments).
    pub fn fill(&mut self, call: &str, buf: &mut [u8]) -> Result<(), String> {
        self.drawn = true;
        let Some(seeded) = &mut self.seeded else {
            return getrandom::fill(buf).map_err(|e| format!("reading random bytes: {e}"));
        };
        let occurrence = seeded.calls.entry(call.to_string()).or_insert(0);
        *occurrence += 1;
        // SHA-256 in counter mode over (seed, call, occurrence): a stream per call.
        for (block, chunk) in buf.chunks_mut(32).enumerate() {
            let mut hash = Sha256::new();
            hash.update(seeded.seed);
            hash.update((call.len() as u64).to_be_bytes());
            hash.update(call.as_bytes());
            hash.update(occurrence.to_be_bytes());
            hash.update((block as u64).to_be_bytes());
            let out = hash.finalize();
            chunk.copy_from_slice(&out[..chunk.len()]);
        }
        Ok(())
    }

    /// The current time: the wall clock, or the recorded one.
    pub fn now(&mut self) -> OffsetDateTime {
        self.drawn = true;
        match &self.seeded {
            Some(seeded) => seeded.clock,
            None => OffsetDateTime::now_utc(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(entropy: &mut Entropy, call: &str) -> [u8; 40] {
        let mut buf = [0u8; 40];
        entropy.fill(call, &mut buf).unwrap();
        buf
    }

    #[test]
    fn seeded_draws_repeat_per_call_and_ignore_unrelated_calls() {
        let clock = OffsetDateTime::UNIX_EPOCH;
        let (mut a, mut b) = (Entropy::seeded([7; 32], clock), Entropy::seeded([7; 32], clock));
        let first = draw(&mut a, "randAlphaNum 16");
        draw(&mut b, "randAlphaNum 32");
        assert_eq!(draw(&mut b, "randAlphaNum 16"), first);
        assert_ne!(draw(&mut a, "randAlphaNum 16"), first, "a second identical call draws anew");
        assert_ne!(draw(&mut Entropy::seeded([8; 32], clock), "randAlphaNum 16"), first);
        assert_eq!(a.now(), clock);
        assert!(a.drawn);
    }

    #[test]
    fn system_draws_differ() {
        let mut system = Entropy::system();
        assert_ne!(draw(&mut system, "x"), draw(&mut system, "x"));
    }
}
