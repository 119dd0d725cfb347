# fastcall-emulator: built with the same command CI builds with, run as a non-root user
# from a small image. SQLite by default (data in the /data volume); set DATABASE_URL for
# PostgreSQL.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, in a layer of their own, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
# The SQLite build options (.cargo/config.toml).
COPY .cargo ./.cargo
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
COPY openapi.yaml ./
# Invalidate the placeholder build of the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && mkdir /data

# glibc and libgcc, nothing else; "nonroot" is uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/fastcall-emulator /usr/local/bin/fastcall-emulator
COPY --from=build --chown=65532:65532 /data /data
WORKDIR /data
USER 65532:65532
ENV FASTCALL_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:/data/fastcall-emulator.db
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/fastcall-emulator", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/fastcall-emulator"]
