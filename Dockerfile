# Fluent Bit 5.1.1, the official image, with our Rust plugins, running gdummy into gstdout:
#
#   docker build -t fluent-bit-rust .
#   docker run --rm fluent-bit-rust
#
# See README.md ("Docker") for running your own pipeline with it.

# Build stage: the official Rust image (Debian bookworm, newest stable Rust). `make plugins` writes
# the stripped .so files to target/plugins/ (their debug info, NAME.so.debug, stays in this stage).
# The plugins need glibc 2.34 or later; the Fluent Bit image (Debian 13) has 2.41.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN make plugins

# Fluent Bit's official image: distroless (no shell), Fluent Bit in /fluent-bit/bin/, its config in
# /fluent-bit/etc/, and FLUENT_BIT_VERSION=5.1.1 in the environment, so our plugins hand Fluent Bit
# their keys and it checks them as a native plugin's. The image has no directory for plugins; ours
# go to /fluent-bit/plugins/.
FROM fluent/fluent-bit:5.1.1
COPY --from=build /src/target/plugins/*.so /fluent-bit/plugins/
# The image's ENTRYPOINT and CMD stay: fluent-bit -c /fluent-bit/etc/fluent-bit.conf, which reads
# plugins.conf from the same directory. Both are replaced by the demo (gdummy into gstdout).
COPY docker/fluent-bit.conf docker/plugins.conf /fluent-bit/etc/
