# syntax=docker/dockerfile:1
# One image for every Herald binary; the command picks which one runs:
#   docker run herald herald-registry | herald-ingest | herald-email-worker |
#   herald-chat-worker | herald-incident-worker | herald-ai-worker |
#   heraldctl ...
# The build needs only cargo (the .proto files compile with protox).

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The binaries this image carries (deploy tests check each one exists).
ARG BINARIES="herald-registry herald-ingest herald-email-worker herald-chat-worker herald-incident-worker herald-ai-worker heraldctl"
COPY Cargo.toml Cargo.lock ./
COPY proto proto
COPY tests tests
COPY crates crates
# Cargo's registry and target directories are cache mounts, kept between
# builds: a rebuild after a source change downloads nothing and recompiles
# only the crates that changed. The binaries are copied out of the cache
# mount within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked $(for b in $BINARIES; do printf -- '--bin %s ' "$b"; done) \
    && mkdir /out \
    && for b in $BINARIES; do cp "target/release/$b" /out/; done

FROM debian:bookworm-slim
# ca-certificates: vendor APIs over HTTPS; curl: health checks in Compose.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/herald --create-home herald
COPY --from=build /out/ /usr/local/bin/
# The registry's default SQLite store (herald-data/registry.db) lands here
# when HERALD_DATABASE_URL is not set.
WORKDIR /var/lib/herald
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001
# registry gRPC, ingest gRPC and HTTP, metrics/health of registry and workers
EXPOSE 50051 50052 8080 9101 9102 9103 9104
CMD ["heraldctl", "--help"]
