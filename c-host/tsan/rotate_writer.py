#!/usr/bin/env python3
"""Appends numbered lines to a file and rotates it by rename, for c-host/tsan/run.sh's gtail run.

Usage: rotate_writer.py PATH TOTAL ROTATIONS

Writes `line N` for N in 0..TOTAL in small batches with short sleeps (so the reader sees the file
grow, and its pause and resume fall in the middle), rotates PATH to PATH.K by rename ROTATIONS
times, evenly spread, and after each rename still appends a few lines to the renamed file through
the open handle, as a logger that reopens its file late does. Every line ends up in exactly one
file; the reader must deliver each exactly once.
"""
import os
import sys
import time

path, total, rotations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_file = total // (rotations + 1)
late = 50  # lines written to a file after it was renamed
batch = 200
f = open(path, "a")
written, rotated = 0, 0
while written < total:
    n = min(batch, total - written)
    if rotated < rotations and written + n >= per_file * (rotated + 1):
        n = per_file * (rotated + 1) - written
        f.write("".join(f"line {written + i}\n" for i in range(n)))
        f.flush()
        written += n
        rotated += 1
        os.rename(path, f"{path}.{rotated}")
        k = min(late, total - written)
        f.write("".join(f"line {written + i}\n" for i in range(k)))
        f.close()
        written += k
        f = open(path, "a")
    else:
        f.write("".join(f"line {written + i}\n" for i in range(n)))
        f.flush()
        written += n
    time.sleep(0.01)
f.close()
