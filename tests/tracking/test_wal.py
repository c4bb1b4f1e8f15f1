"""The write-ahead log: whole records only, group commit, sealed segments, and failures answered as such."""

from __future__ import annotations

import errno
import threading

import pytest

from trueroi.tracking import wal


def test_records_round_trip_and_a_torn_tail_is_never_read(tmp_path) -> None:
    path = tmp_path / "seg.wal"
    records = [b'{"a":1}', b"", b"x" * 70_000]
    whole = b"".join(wal.frame(r) for r in records)
    torn = wal.frame(b'{"cut":"short"}')[:-3]
    path.write_bytes(whole + torn)
    found, end = wal.read_records(path, 0)
    assert found == records
    assert end == len(whole)  # the next read starts after the last whole record
    assert wal.read_records(path, end) == ([], end)


def test_a_damaged_record_ends_the_readable_part(tmp_path) -> None:
    path = tmp_path / "seg.wal"
    good, bad = wal.frame(b"good"), bytearray(wal.frame(b"flipped"))
    bad[-1] ^= 0xFF  # the CRC no longer matches
    path.write_bytes(good + bytes(bad) + wal.frame(b"after"))
    assert wal.read_records(path, 0) == ([b"good"], len(good))


def test_a_record_larger_than_one_read_is_still_read(tmp_path) -> None:
    path = tmp_path / "seg.wal"
    path.write_bytes(wal.frame(b"y" * 5000))
    assert wal.read_records(path, 0, max_bytes=100) == ([b"y" * 5000], 5012)


def test_concurrent_appends_share_flushes_and_all_are_read_back(tmp_path) -> None:
    writer = wal.WalWriter(tmp_path)
    futures, lock = [], threading.Lock()

    def send(i: int) -> None:
        future = writer.append("shop", f"record {i}".encode())
        with lock:
            futures.append(future)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for future in futures:
        assert future.result(timeout=30) is None
    assert writer.rounds < 300  # group commit: fewer flushes than records
    (segment,) = wal.segments(tmp_path / "shop")
    assert not wal.is_sealed(segment)  # its writer may still append
    found, _ = wal.read_records(segment, 0)
    assert sorted(found) == sorted(f"record {i}".encode() for i in range(300))
    writer.close()
    assert wal.is_sealed(segment)


def test_a_full_segment_is_sealed_and_a_new_one_started(tmp_path) -> None:
    writer = wal.WalWriter(tmp_path, segment_bytes=100)
    for i in range(3):
        writer.append("shop", b"z" * 90 + bytes([i])).result(timeout=10)  # 103 bytes framed
    first, second, third = wal.segments(tmp_path / "shop")
    assert wal.is_sealed(first) and wal.is_sealed(second) and wal.is_sealed(third)  # each passed 100 bytes
    assert [wal.read_records(s, 0)[0][0][-1] for s in (first, second, third)] == [0, 1, 2]
    writer.close()


def test_a_failed_write_is_answered_as_failed_and_nothing_follows_a_torn_record(
    tmp_path, monkeypatch
) -> None:
    writer = wal.WalWriter(tmp_path)
    writer.append("shop", b"kept before").result(timeout=10)
    real = wal._write_all

    def disk_full(fd: int, data: bytes) -> None:
        real(fd, data[:7])  # part of the record reaches the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal, "_write_all", disk_full)
    with pytest.raises(OSError, match="No space left"):
        writer.append("shop", b"never acknowledged").result(timeout=10)
    monkeypatch.setattr(wal, "_write_all", real)
    writer.append("shop", b"kept after").result(timeout=10)
    first, second = wal.segments(tmp_path / "shop")
    assert wal.is_sealed(first)  # abandoned after the failure: its torn tail is at its end
    assert wal.read_records(first, 0)[0] == [b"kept before"]
    assert wal.read_records(second, 0)[0] == [b"kept after"]
    writer.close()


def test_a_failed_flush_is_answered_as_failed(tmp_path, monkeypatch) -> None:
    writer = wal.WalWriter(tmp_path)

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal.os, "fdatasync", broken)
    with pytest.raises(OSError, match="Input/output error"):
        writer.append("shop", b"not durable").result(timeout=10)
    monkeypatch.undo()
    writer.close()


def test_an_unwritable_log_folder_is_an_error_not_an_answer(tmp_path) -> None:
    blocker = tmp_path / "wal"
    blocker.write_text("a file where the log's folder should be")
    writer = wal.WalWriter(blocker)
    with pytest.raises(OSError):
        writer.append("shop", b"nowhere to go").result(timeout=10)
    writer.close()
