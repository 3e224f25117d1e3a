# Parley in a container: built in a Debian 12 stage, run in debian:12-slim with only the runtime
# libraries, as a user that is not root, with the store on a volume.
#   podman build --format docker -t parley .   (or docker build; podman's default OCI format
#                                               drops the HEALTHCHECK)
#   podman run -d -p 8000:8000 -v parley-data:/var/lib/parley parley
# Settings: PARLEY_* environment variables (one per flag, `-e PARLEY_AUTH_SECRET=...`) or flags
# after the image name. See docs/install.md.

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make cmake pkgconf ca-certificates libboost1.81-dev libcli11-dev libspdlog-dev \
      libfmt-dev libssl-dev libsqlite3-dev libtomlplusplus-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No tests, no benchmark, no sd_notify (no systemd in a container).
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DPARLEY_BUILD_TESTS=OFF -DPARLEY_BUILD_BENCH=OFF -DPARLEY_SYSTEMD=OFF \
 && cmake --build /build -j"$(nproc)" --target parley \
 && DESTDIR=/out cmake --install /build --strip

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libsqlite3-0 libspdlog1.10-fmt9 libfmt9 libhiredis0.14 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/parley --no-create-home parley \
 && install -d -o parley -g parley -m 0700 /var/lib/parley
COPY --from=build /out/usr/bin/parley /usr/bin/parley
COPY --from=build /out/usr/share/parley /usr/share/parley
COPY --from=build /out/usr/share/doc/parley /usr/share/doc/parley

# Listens on every interface of the container (the port is published with -p). That exposes it:
# set PARLEY_AUTH_SECRET (or PARLEY_AUTH_SECRET_FILE with a mounted secret), and end TLS in a
# proxy in front or give --tls-cert/--tls-key (docs/deploy.md). Parley warns at start-up otherwise.
ENV PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=8000 \
    PARLEY_DATA_DIR=/var/lib/parley
VOLUME /var/lib/parley
EXPOSE 8000
USER parley
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PARLEY_PORT}/healthz" >/dev/null || exit 1
ENTRYPOINT ["/usr/bin/parley"]
