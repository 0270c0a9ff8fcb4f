#!/usr/bin/env python3
"""Appends numbered lines to a file and rotates it by rename, for c-host/tsan/run.sh's gtail run.

Usage: rotate_writer.py PATH TOTAL ROTATIONS DB

Writes `line N` for N in 0..TOTAL in small batches with short sleeps (so the reader sees the file
grow, and its pause and resume fall in the middle), rotates PATH to PATH.K by rename ROTATIONS
times, evenly spread, and after each rename still appends a few lines to the renamed file through
the open handle, as a logger that reopens its file late does. Every line ends up in exactly one
file; the reader must deliver each exactly once. Prints the time of each rename.

Before renaming a file it waits until gtail has opened it (its inode has a row in gtail's offset
database DB): a file that lived at PATH only between two looks of the reader is one no tail can
know of (a slow reader, under ThreadSanitizer on a loaded machine, lost such files), and this run
checks what happens to the files it knows, not how fast it looks.
"""
import os
import sqlite3
import sys
import time

path, total, rotations, db = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
per_file = total // (rotations + 1)
late = 50  # lines written to a file after it was renamed
batch = 200
patience = 120.0  # seconds gtail may take to open a file before the writer gives up


def known_to_gtail(inode):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute("SELECT 1 FROM in_tail_files WHERE inode = ?", (inode,)).fetchone()
        finally:
            con.close()
        return row is not None
    except sqlite3.Error:
        return False  # not created yet, or busy: look again


def wait_until_opened(f):
    inode = os.fstat(f.fileno()).st_ino
    deadline = time.monotonic() + patience
    while not known_to_gtail(inode):
        if time.monotonic() > deadline:
            sys.exit(f"rotate_writer: gtail did not open {path} (inode {inode}) within {patience:.0f} s")
        time.sleep(0.02)


def lines(start, n):
    return "".join(f"line {start + i}\n" for i in range(n))


f = open(path, "a")
written, rotated = 0, 0
while written < total:
    n = min(batch, total - written)
    if rotated < rotations and written + n >= per_file * (rotated + 1):
        n = per_file * (rotated + 1) - written
        f.write(lines(written, n))
        f.flush()
        written += n
        wait_until_opened(f)
        rotated += 1
        os.rename(path, f"{path}.{rotated}")
        print(f"{time.time():.3f} renamed to {path}.{rotated} after line {written - 1}", flush=True)
        k = min(late, total - written)
        f.write(lines(written, k))
        f.close()
        written += k
        f = open(path, "a")
    else:
        f.write(lines(written, n))
        f.flush()
        written += n
    time.sleep(0.01)
f.close()
