# The self-hosted DINEX Tracking service (local shape: Beast HTTP server, SQLite).
#   docker build -t dinex-tracking .
#   docker run -p 8080:8080 -v dinex-data:/var/lib/dinex dinex-tracking
# docker-compose.yml runs it with the monitoring stack. Settings are DINEX_* environment variables
# (dinex-tracking serve --help); GET /metrics is public unless DINEX_METRICS=admin or off.

# --- build: the release preset (-O3, hardening flags), from Debian 12's toolchain and Boost ---
FROM debian:12.8-slim AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY scripts/install-deps /tmp/install-deps
RUN /tmp/install-deps build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY src src
COPY web web
RUN cmake --preset release -DDINEX_BUILD_BENCHMARKS=OFF \
    && cmake --build --preset release --target dinex-tracking \
    && strip build/release/src/cli/dinex-tracking

# --- run: the binary, its shared libraries, a non-root user ---
FROM debian:12.8-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libboost-json1.81.0 libboost-url1.81.0 \
       libsqlite3-0 libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/dinex --shell /usr/sbin/nologin dinex \
    && mkdir -p /var/lib/dinex \
    && chown dinex:dinex /var/lib/dinex
COPY --from=build /src/build/release/src/cli/dinex-tracking /usr/local/bin/dinex-tracking
USER dinex
WORKDIR /var/lib/dinex
ENV DINEX_HOST=0.0.0.0 DINEX_PORT=8080 DINEX_DATA_DIR=/var/lib/dinex DINEX_LOG_LEVEL=info DINEX_METRICS=public
EXPOSE 8080
VOLUME ["/var/lib/dinex"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/health"]
ENTRYPOINT ["/usr/local/bin/dinex-tracking"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
