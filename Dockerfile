# A thin wrapper around the same scripts CI runs: what CI proves is what the image runs.
#   docker build -t frontend-gray .                  (runs scripts/test during the build)
#   docker run --rm -p 8080:8080 frontend-gray       (the demo, on port 8080)
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl build-essential \
    && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY . .
RUN scripts/test
EXPOSE 8080
CMD ["sh", "-c", "DEMO_LISTEN=0.0.0.0:8080 scripts/demo && exec tail -F build/demo/logs/gray.log"]
