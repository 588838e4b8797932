# A thin wrapper around the same scripts CI runs: what CI proves is what the image runs.
#   docker build -t frontend-gray .                  (runs scripts/test during the build)
#   docker run --rm -p 8080:8080 frontend-gray       (the demo, on port 8080)
# scripts/test installs everything itself on a bare Debian: the build dependencies from apt and
# the Rust toolchain through rustup (bookworm's own cargo is older than the workspace needs).
FROM debian:bookworm
WORKDIR /src
COPY . .
RUN scripts/test && rm -rf /var/lib/apt/lists/*
ENV PATH=/root/.cargo/bin:$PATH
EXPOSE 8080
CMD ["sh", "-c", "DEMO_LISTEN=0.0.0.0:8080 scripts/demo && exec tail -F build/demo/logs/gray.log"]
