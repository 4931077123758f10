//! Reassembly of split messages (flag bit D, `PNUM`/`PNO`; HJ 212-2017 Tables C.49/C.50).
//!
//! A device splits a message that does not fit one packet into `PNUM` pieces. Each piece is a
//! complete packet with **its own `QN`**, the same `DataTime`, and a complete `CP=&&…&&` holding a
//! subset of the factors. So pieces are matched on `(MN, CN, DataTime, PNUM)`; `QN` serves only
//! when there is no `DataTime`.
//!
//! The reassembler owns copies of the pieces (packets arrive one at a time, their buffers do
//! not live long enough), bounds the memory it holds, and has no clock: the caller passes the
//! time in, so the same code runs under a real clock and in tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::cp::{Cp, CpItem, ItemKind};
use crate::segment::DataSegment;

/// What identifies one split message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey {
    /// Device.
    pub mn: String,
    /// Command code.
    pub cn: String,
    /// `DataTime` of the pieces, or the `QN` when there is no `DataTime`.
    pub time: String,
    /// Number of pieces.
    pub pnum: u16,
}

/// One received piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pno: u16,
    qn: Option<String>,
    cp: String,
}

impl Piece {
    /// The piece's number, 1–`PNUM`.
    #[must_use]
    pub fn pno(&self) -> u16 {
        self.pno
    }

    /// The piece's own `QN` (what a 9014 reply for this piece must carry).
    #[must_use]
    pub fn qn(&self) -> Option<&str> {
        self.qn.as_deref()
    }

    /// The piece's data area.
    #[must_use]
    pub fn cp(&self) -> Cp<'_> {
        // Copied from a parsed segment's data area, which was validated then.
        Cp::from_validated(&self.cp)
    }
}

/// A reassembled message: complete, or left incomplete by a timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    key: MessageKey,
    st: String,
    pieces: Vec<Piece>,
}

impl Message {
    /// The message's identity.
    #[must_use]
    pub fn key(&self) -> &MessageKey {
        &self.key
    }

    /// `ST` of the first piece received.
    #[must_use]
    pub fn st(&self) -> &str {
        &self.st
    }

    /// The pieces received, in `PNO` order.
    #[must_use]
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Whether all `PNUM` pieces arrived.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.pieces.len() == usize::from(self.key.pnum)
    }

    /// Numbers of the pieces that never arrived.
    #[must_use]
    pub fn missing(&self) -> Vec<u16> {
        let have: HashSet<u16> = self.pieces.iter().map(Piece::pno).collect();
        (1..=self.key.pnum).filter(|p| !have.contains(p)).collect()
    }

    /// Every data-area item of every piece, in `PNO` order. `DataTime` repeats once per piece.
    pub fn items(&self) -> impl Iterator<Item = CpItem<'_>> {
        self.pieces.iter().flat_map(|p| p.cp().items())
    }

    /// The factor items (`code-Suffix`) of all pieces: the union that the split divided.
    pub fn factor_items(&self) -> impl Iterator<Item = CpItem<'_>> {
        self.items()
            .filter(|i| matches!(i.kind(), ItemKind::Factor { .. }))
    }

    /// Factor item names that occur in more than one piece: a data-quality event, since each
    /// piece should carry a disjoint subset of the factors.
    #[must_use]
    pub fn duplicate_factor_keys(&self) -> Vec<&str> {
        let mut first_piece: HashMap<&str, u16> = HashMap::new();
        let mut dups = Vec::new();
        for piece in &self.pieces {
            for item in piece.cp().items() {
                if !matches!(item.kind(), ItemKind::Factor { .. }) {
                    continue;
                }
                match first_piece.get(item.key) {
                    None => {
                        first_piece.insert(item.key, piece.pno);
                    }
                    Some(&p) if p != piece.pno && !dups.contains(&item.key) => {
                        dups.push(item.key);
                    }
                    Some(_) => {}
                }
            }
        }
        dups
    }
}

/// Result of [`Reassembler::push`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Waiting for more pieces.
    Pending {
        /// Pieces received so far.
        received: u16,
        /// `PNUM`.
        total: u16,
    },
    /// The last piece arrived.
    Complete(Message),
}

/// Why a piece was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReassemblyError {
    /// The packet carries no `PNUM`/`PNO`.
    #[error("packet is not part of a split message")]
    NotSplit,
    /// The packet has neither `DataTime` nor `QN`, so its pieces cannot be matched.
    #[error("split packet has neither DataTime nor QN")]
    Uncorrelated,
    /// This piece was already received (a retransmission); the first copy is kept.
    #[error("piece {pno} was already received")]
    DuplicatePiece {
        /// `PNO`.
        pno: u16,
    },
    /// Too many messages are waiting; call [`Reassembler::expire`].
    #[error("more than {limit} split messages pending")]
    TooManyPending {
        /// The limit.
        limit: usize,
    },
    /// Buffered pieces would exceed the byte budget; call [`Reassembler::expire`].
    #[error("pending pieces would exceed {limit} bytes")]
    OverBudget {
        /// The limit.
        limit: usize,
    },
}

#[derive(Debug, Clone)]
struct Partial {
    first_seen: Instant,
    st: String,
    pieces: BTreeMap<u16, Piece>,
    bytes: usize,
}

impl Partial {
    fn into_message(self, key: MessageKey) -> Message {
        Message {
            key,
            st: self.st,
            pieces: self.pieces.into_values().collect(),
        }
    }
}

/// Collects split pieces into messages.
///
/// ```
/// use std::time::{Duration, Instant};
/// use cpaudit_hj212::{parse_segment, Progress, Reassembler, Tolerance};
///
/// let p1 = "QN=20160801085857534;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20160801080000;w00000-Cou=63.0&&";
/// let p2 = "QN=20160801085857535;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=2;CP=&&DataTime=20160801080000;w01018-Cou=63.0&&";
/// let mut r = Reassembler::new(Duration::from_secs(60));
/// let t0 = Instant::now();
/// let first = r.push(&parse_segment(p1, &Tolerance::STRICT)?, t0).unwrap();
/// assert_eq!(first, Progress::Pending { received: 1, total: 2 });
/// let Progress::Complete(msg) = r.push(&parse_segment(p2, &Tolerance::STRICT)?, t0).unwrap() else { panic!() };
/// assert_eq!(msg.factor_items().map(|i| i.key).collect::<Vec<_>>(), ["w00000-Cou", "w01018-Cou"]);
/// # Ok::<(), cpaudit_hj212::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reassembler {
    timeout: Duration,
    max_pending: usize,
    max_bytes: usize,
    bytes: usize,
    pending: HashMap<MessageKey, Partial>,
}

impl Reassembler {
    /// A reassembler that gives up on a message `timeout` after its first piece arrived.
    /// Defaults: at most 1024 pending messages and 16 MiB of buffered pieces.
    #[must_use]
    pub fn new(timeout: Duration) -> Reassembler {
        Reassembler {
            timeout,
            max_pending: 1024,
            max_bytes: 16 << 20,
            bytes: 0,
            pending: HashMap::new(),
        }
    }

    /// Sets the limits on pending messages and buffered bytes.
    #[must_use]
    pub fn with_limits(mut self, max_pending: usize, max_bytes: usize) -> Reassembler {
        self.max_pending = max_pending;
        self.max_bytes = max_bytes;
        self
    }

    /// Number of messages waiting for pieces.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes of piece data buffered.
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// When the oldest pending message times out, for the caller's timer.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .values()
            .map(|p| p.first_seen + self.timeout)
            .min()
    }

    /// Adds a piece received at `now`.
    ///
    /// # Errors
    /// [`ReassemblyError`]; the reassembler is unchanged then.
    pub fn push(
        &mut self,
        seg: &DataSegment<'_>,
        now: Instant,
    ) -> Result<Progress, ReassemblyError> {
        let numbers = seg.packet_numbers().ok_or(ReassemblyError::NotSplit)?;
        let time = seg
            .data_time()
            .or(seg.qn())
            .ok_or(ReassemblyError::Uncorrelated)?;
        let key = MessageKey {
            mn: seg.mn().to_owned(),
            cn: seg.cn().to_owned(),
            time: time.to_owned(),
            pnum: numbers.pnum,
        };
        let piece = Piece {
            pno: numbers.pno,
            qn: seg.qn().map(str::to_owned),
            cp: seg.cp().as_str().to_owned(),
        };
        let size = piece.cp.len() + piece.qn.as_ref().map_or(0, String::len);

        if numbers.pnum == 1 {
            return Ok(Progress::Complete(Message {
                key,
                st: seg.st().to_owned(),
                pieces: vec![piece],
            }));
        }
        match self.pending.get(&key) {
            Some(partial) if partial.pieces.contains_key(&numbers.pno) => {
                return Err(ReassemblyError::DuplicatePiece { pno: numbers.pno })
            }
            Some(_) => {}
            None if self.pending.len() >= self.max_pending => {
                return Err(ReassemblyError::TooManyPending {
                    limit: self.max_pending,
                })
            }
            None => {}
        }
        if self.bytes + size > self.max_bytes {
            return Err(ReassemblyError::OverBudget {
                limit: self.max_bytes,
            });
        }
        self.bytes += size;
        let partial = self.pending.entry(key.clone()).or_insert_with(|| Partial {
            first_seen: now,
            st: seg.st().to_owned(),
            pieces: BTreeMap::new(),
            bytes: 0,
        });
        partial.pieces.insert(numbers.pno, piece);
        partial.bytes += size;
        let received = partial.pieces.len() as u16;
        if received < numbers.pnum {
            return Ok(Progress::Pending {
                received,
                total: numbers.pnum,
            });
        }
        let partial = self
            .pending
            .remove(&key)
            .expect("entry inserted just above");
        self.bytes -= partial.bytes;
        Ok(Progress::Complete(partial.into_message(key)))
    }

    /// Removes and returns the messages whose timeout has passed at `now`, incomplete, so the
    /// caller can store what arrived (marked incomplete) rather than lose it.
    pub fn expire(&mut self, now: Instant) -> Vec<Message> {
        let timeout = self.timeout;
        let expired: Vec<MessageKey> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.first_seen) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out: Vec<Message> = expired
            .into_iter()
            .filter_map(|k| {
                let p = self.pending.remove(&k)?;
                self.bytes -= p.bytes;
                Some(p.into_message(k))
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::parse_segment;
    use crate::tolerance::Tolerance;

    fn piece(qn: &str, pnum: u16, pno: u16, cp: &str) -> String {
        format!("QN={qn};ST=32;CN=2061;PW=123456;MN=M1;Flag=7;PNUM={pnum};PNO={pno};CP=&&DataTime=20160801080000;{cp}&&")
    }

    fn push(r: &mut Reassembler, text: &str, at: Instant) -> Result<Progress, ReassemblyError> {
        r.push(&parse_segment(text, &Tolerance::STRICT).unwrap(), at)
    }

    #[test]
    fn out_of_order_pieces_complete_in_pno_order() {
        let t = Instant::now();
        let mut r = Reassembler::new(Duration::from_secs(30));
        let a = piece("1", 3, 3, "c-Avg=3");
        let b = piece("2", 3, 1, "a-Avg=1");
        let c = piece("3", 3, 2, "b-Avg=2,a-Avg=9");
        assert_eq!(
            push(&mut r, &a, t),
            Ok(Progress::Pending {
                received: 1,
                total: 3
            })
        );
        assert_eq!(
            push(&mut r, &b, t),
            Ok(Progress::Pending {
                received: 2,
                total: 3
            })
        );
        assert_eq!(
            push(&mut r, &b, t),
            Err(ReassemblyError::DuplicatePiece { pno: 1 })
        );
        assert!(r.buffered_bytes() > 0);
        let Ok(Progress::Complete(m)) = push(&mut r, &c, t) else {
            panic!("not complete")
        };
        assert!(m.is_complete());
        assert!(m.missing().is_empty());
        assert_eq!(
            m.pieces().iter().map(Piece::pno).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(m.pieces()[0].qn(), Some("2"));
        assert_eq!(m.st(), "32");
        assert_eq!(
            m.factor_items().map(|i| i.key).collect::<Vec<_>>(),
            ["a-Avg", "b-Avg", "a-Avg", "c-Avg"]
        );
        assert_eq!(m.items().count(), 7);
        assert_eq!(m.duplicate_factor_keys(), ["a-Avg"]);
        assert_eq!(m.key().time, "20160801080000");
        assert_eq!((r.pending(), r.buffered_bytes()), (0, 0));
    }

    #[test]
    fn timeout_returns_incomplete_messages() {
        let t0 = Instant::now();
        let mut r = Reassembler::new(Duration::from_secs(30));
        push(&mut r, &piece("1", 2, 1, "a-Avg=1"), t0).unwrap();
        assert_eq!(r.next_deadline(), Some(t0 + Duration::from_secs(30)));
        assert!(r.expire(t0 + Duration::from_secs(29)).is_empty());
        let gone = r.expire(t0 + Duration::from_secs(30));
        assert_eq!(gone.len(), 1);
        assert!(!gone[0].is_complete());
        assert_eq!(gone[0].missing(), [2]);
        assert_eq!(
            (r.pending(), r.buffered_bytes(), r.next_deadline()),
            (0, 0, None)
        );
        // A late piece starts a new message rather than resurrecting the old one.
        assert_eq!(
            push(
                &mut r,
                &piece("2", 2, 2, "b-Avg=1"),
                t0 + Duration::from_secs(31)
            ),
            Ok(Progress::Pending {
                received: 1,
                total: 2
            })
        );
    }

    #[test]
    fn limits_and_errors() {
        let t = Instant::now();
        let mut r = Reassembler::new(Duration::from_secs(30)).with_limits(1, 1 << 20);
        push(&mut r, &piece("1", 2, 1, "a-Avg=1"), t).unwrap();
        let other = piece("1", 3, 1, "a-Avg=1");
        assert_eq!(
            push(&mut r, &other, t),
            Err(ReassemblyError::TooManyPending { limit: 1 })
        );
        let mut tiny = Reassembler::new(Duration::from_secs(30)).with_limits(10, 10);
        assert_eq!(
            push(&mut tiny, &piece("1", 2, 1, "a-Avg=1"), t),
            Err(ReassemblyError::OverBudget { limit: 10 })
        );
        let whole = "QN=1;ST=32;CN=2061;PW=1;MN=M1;Flag=5;CP=&&a-Avg=1&&";
        assert_eq!(push(&mut r, whole, t), Err(ReassemblyError::NotSplit));
        let single = piece("9", 1, 1, "a-Avg=1");
        let Ok(Progress::Complete(m)) = push(&mut r, &single, t) else {
            panic!()
        };
        assert!(m.is_complete());
        let tol = Tolerance::STRICT.allow_legacy_2005_header();
        let anon =
            parse_segment("ST=21;CN=2011;PW=1;MN=M;PNO=1;PNUM=2;CP=&&a-Rtd=1&&", &tol).unwrap();
        assert_eq!(r.push(&anon, t), Err(ReassemblyError::Uncorrelated));
    }
}
