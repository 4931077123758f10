//! Parse + verify throughput versus a bare CRC pass over the same bytes.
//!
//! The corpus is realistic 2017 uploads of 400–900 bytes (minute and hourly data with
//! Cou/Min/Avg/Max/Flag per factor, some real-time packets with ZsRtd). "Parse + verify" is what a
//! receiver does per packet: frame check, HJ 212 CRC, header fields, and a walk over every
//! data-area item (reading each key and value). The baseline is `crc::hj212` alone over the same
//! wire bytes, the floor no validating decoder can beat.
//!
//! After criterion's own report, a summary prints packets/s, MB/s and the ratio of the two, from
//! the best of many interleaved single passes over the corpus (the machine is shared; the best
//! pass is the one nothing interrupted).
//!
//! For context it also times a classic one-table-lookup-per-byte CRC (the usual "table-driven"
//! CRC-16): the library's `crc::hj212` is sliced eight bytes at a time and several times faster,
//! which makes it a much harder baseline for the parse+verify ratio.
//!
//! `HJ212_PROFILE=NAME[:PASSES]` runs one function only (`bare_crc`, `parse_verify`,
//! `decode_only`, `bytewise_crc`), for `valgrind --tool=callgrind` or `perf record`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cpaudit_hj212::{crc, decode_packet, encode_frame, Tolerance};
use criterion::{Criterion, Throughput};

/// Deterministic corpus: `n` framed packets with data segments of 400–900 bytes.
fn corpus(n: usize) -> Vec<Vec<u8>> {
    const WATER: [&str; 9] = [
        "w00000", "w01001", "w01018", "w21003", "w21011", "w21001", "w01010", "w01012", "w20120",
    ];
    const GAS: [&str; 10] = [
        "a00000", "a21026", "a21002", "a34013", "a19001", "a01011", "a01012", "a01013", "a01014",
        "a24088",
    ];
    let mut seed: u32 = 0x2017_0424;
    let mut next = move || {
        // xorshift: reproducible values without a dependency.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let kind = next() % 3;
        let (st, cn, codes): (&str, &str, &[&str]) = match kind {
            0 => ("32", "2051", &WATER),
            1 => ("31", "2061", &GAS),
            _ => ("31", "2011", &GAS),
        };
        let mut seg = format!(
            "QN=20240123{:09};ST={st};CN={cn};PW=123456;MN=010000A8900016F0001{:05};Flag=5;CP=&&DataTime=20240123101000",
            next() % 1_000_000_000,
            next() % 100_000
        );
        let target = 400 + (next() % 500) as usize;
        for code in codes.iter().cycle() {
            let v = |x: u32| format!("{}.{:03}", x % 1000, x % 997);
            let group = if kind == 2 {
                format!(
                    ";{code}-Rtd={},{code}-ZsRtd={},{code}-Flag=N",
                    v(next()),
                    v(next())
                )
            } else {
                format!(
                    ";{code}-Cou={},{code}-Min={},{code}-Avg={},{code}-Max={},{code}-Flag=N",
                    v(next()),
                    v(next()),
                    v(next()),
                    v(next())
                )
            };
            if seg.len() + group.len() + 2 > target {
                break;
            }
            seg.push_str(&group);
        }
        seg.push_str("&&");
        if (400..=900).contains(&seg.len()) {
            out.push(encode_frame(&seg).expect("corpus packet encodes"));
        }
    }
    out
}

/// The receiver's work for one packet; returns something derived from every item so that
/// nothing can be optimised away.
fn parse_and_verify(wire: &[u8]) -> usize {
    let packet = decode_packet(wire, &Tolerance::STRICT).expect("corpus packet decodes");
    let mut acc = packet.mn().len() + packet.qn().map_or(0, str::len);
    for item in packet.cp().items() {
        acc += item.key.len() + item.value.len();
    }
    acc
}

fn bare_crc(wire: &[u8]) -> usize {
    usize::from(crc::hj212(wire))
}

/// The reflected-0xA001 table, for the classic byte-at-a-time baseline.
const fn byte_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = i as u16;
        let mut k = 0;
        while k < 8 {
            r = if r & 1 != 0 {
                (r >> 1) ^ 0xA001
            } else {
                r >> 1
            };
            k += 1;
        }
        t[i] = r;
        i += 1;
    }
    t
}

static BYTE_TABLE: [u16; 256] = byte_table();

/// HJ 212 CRC with one table lookup per byte (`reg = T[(reg >> 8) ^ b]`).
fn bytewise_crc(wire: &[u8]) -> usize {
    let crc = wire.iter().fold(0xFFFF_u16, |reg, &b| {
        BYTE_TABLE[usize::from((reg >> 8) as u8 ^ b)]
    });
    usize::from(crc)
}

/// Frame check + CRC + header and data-area validation, without walking the items.
fn decode_only(wire: &[u8]) -> usize {
    let packet = decode_packet(wire, &Tolerance::STRICT).expect("corpus packet decodes");
    packet.mn().len()
}

fn run_all(packets: &[Vec<u8>], f: fn(&[u8]) -> usize) -> usize {
    packets.iter().map(|p| f(black_box(p))).sum()
}

/// Best time for one pass over the corpus (about 0.1–0.3 ms), per function. Passes are
/// interleaved and timed one by one, so that the minimum comes from passes that no other process
/// interrupted (the machine is shared), for every function alike.
fn best_passes<const N: usize>(
    packets: &[Vec<u8>],
    fs: [fn(&[u8]) -> usize; N],
    rounds: usize,
) -> [Duration; N] {
    let mut best = [Duration::MAX; N];
    for _ in 0..rounds {
        for (f, best) in fs.iter().zip(&mut best) {
            for _ in 0..10 {
                let start = Instant::now();
                black_box(run_all(packets, *f));
                *best = (*best).min(start.elapsed());
            }
        }
    }
    best
}

fn main() {
    let packets = corpus(256);
    let bytes: usize = packets.iter().map(Vec::len).sum();

    // For profilers (`valgrind --tool=callgrind`, `perf record`): run one function only, e.g.
    // `HJ212_PROFILE=parse_verify:200 cargo bench -p cpaudit-hj212`, and skip the rest.
    if let Ok(spec) = std::env::var("HJ212_PROFILE") {
        let (name, passes) = spec.split_once(':').unwrap_or((&spec, "1000"));
        let f: fn(&[u8]) -> usize = match name {
            "bare_crc" => bare_crc,
            "parse_verify" => parse_and_verify,
            "decode_only" => decode_only,
            "bytewise_crc" => bytewise_crc,
            other => panic!("HJ212_PROFILE: unknown function {other}"),
        };
        let passes: usize = passes.parse().expect("HJ212_PROFILE: number of passes");
        let total: usize = (0..passes).map(|_| run_all(&packets, f)).sum();
        println!("{name}: {passes} passes, checksum {total}");
        return;
    }

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    {
        let mut group = c.benchmark_group("hj212");
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("bare_crc", |b| b.iter(|| run_all(&packets, bare_crc)));
        group.bench_function("parse_verify", |b| {
            b.iter(|| run_all(&packets, parse_and_verify))
        });
        group.finish();
    }
    c.final_summary();

    assert_eq!(
        run_all(&packets, bare_crc),
        run_all(&packets, bytewise_crc),
        "both CRC implementations agree"
    );
    let [crc_t, parse_t, decode_t, bytewise_t] = best_passes(
        &packets,
        [bare_crc, parse_and_verify, decode_only, bytewise_crc],
        300,
    );
    let n = packets.len() as f64;
    let report = |name: &str, t: Duration| {
        let s = t.as_secs_f64();
        println!(
            "{name:<32} {:>10.0} packets/s {:>8.1} MB/s",
            n / s,
            bytes as f64 / s / 1e6
        );
    };
    let ratio = |slow: Duration, fast: Duration| 100.0 * fast.as_secs_f64() / slow.as_secs_f64();
    println!(
        "\ncorpus: {} packets, {} bytes (mean {:.0} bytes/packet)",
        packets.len(),
        bytes,
        bytes as f64 / n
    );
    report("bare CRC (crc::hj212, sliced)", crc_t);
    report("parse+verify (+ walk all items)", parse_t);
    report("decode_packet only", decode_t);
    report("bare CRC, 1 lookup/byte (context)", bytewise_t);
    println!(
        "ratio parse+verify / bare CRC:            {:5.1}% (target >= 60%)",
        ratio(parse_t, crc_t)
    );
    println!(
        "ratio decode_packet only / bare CRC:      {:5.1}%",
        ratio(decode_t, crc_t)
    );
    println!(
        "ratio parse+verify / 1-lookup-per-byte CRC: {:5.1}%",
        ratio(parse_t, bytewise_t)
    );
}
