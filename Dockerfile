# syntax=docker/dockerfile:1
# The authpipe server image: `docker build -t authpipe .` at the repository root.
#
# Stage 1 builds exactly as `just build` does on a Debian machine: Debian
# bookworm's clang-19, llvm-19 and wasi-libc compile QuickJS for wasm32-wasip1
# (crates/authpipe/build.rs sets RQUICKJS_SYS_NO_WASI_SDK=1,
# CC/AR_wasm32_wasip1=clang-19/llvm-ar-19 and the --sysroot itself, under
# target/guest/sysroot), so no WASI SDK is downloaded. The console
# (console/dist) and the templates are committed and bundled by build.rs: no
# Node.js is needed.
#
# Stage 2 is debian:bookworm-slim with the binary, ca-certificates and a
# non-root user. The binary links only glibc, libm and libgcc_s (checked with
# ldd), all in the base image.
#
# Configuration comes from the environment (see docs/deploy.md):
#   AUTHPIPE_STORE        postgres://user:password@host:5432/db (or a SQLite path)
#   AUTHPIPE_ADMIN_TOKEN  the platform admin's token, at least 16 characters
#   AUTHPIPE_MASTER_KEY   64 hex digits; the SAME on every node
#   AUTHPIPE_NODE_ID      this node's name (default: the hostname)
# No HEALTHCHECK: the image has no curl or wget; orchestrators probe
# GET /readyz (ready for traffic) and GET /healthz (alive) over HTTP.

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
# The same packages as scripts/setup.sh (clang-19 and llvm-19 are in bookworm's
# main archive since Debian 12.11; no extra repository is needed).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 llvm-19 wasi-libc \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-wasip1
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds (BuildKit); the
# binary is copied out of the cached target/ before the mount goes away.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace \
 && install -D -m 0755 target/release/authpipe /out/authpipe \
 && /out/authpipe --version

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 authpipe \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/authpipe --no-create-home \
      --shell /usr/sbin/nologin authpipe \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/authpipe /var/cache/authpipe
COPY --from=builder /out/authpipe /usr/local/bin/authpipe
# The compiled-code cache must be writable by authpipe alone (its files are
# loaded as native code); with a read-only root filesystem mount a volume here.
ENV AUTHPIPE_CACHE_DIR=/var/cache/authpipe
WORKDIR /var/lib/authpipe
USER 10001:10001
EXPOSE 8080
# SIGTERM drains: stop accepting, finish running calls (shutdown_grace_ms,
# 30 s), async functions (async_grace_ms, 5 s), flush execution records.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authpipe"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
