# haas-emu in a container, built in two stages:
#   build    Debian 12 with server/debian-packages.txt, installed by the same
#            server/install-deps.sh that `make run` uses, and the same `make`;
#   runtime  debian:12-slim with only the runtime libraries
#            (server/debian-runtime-packages.txt), the three programs, the
#            console (web/), run as the unprivileged user haas (uid 10001).
# tests/integration/test_ship.py checks both stages without an engine;
# tests/integration/test_image.py builds the image and measures it (under
# 150 MB) when podman or docker is there.

FROM debian:12-slim AS build
WORKDIR /src
COPY server/debian-packages.txt server/install-deps.sh server/
RUN sh server/install-deps.sh server/debian-packages.txt && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make

FROM debian:12-slim AS runtime
COPY server/debian-runtime-packages.txt server/install-deps.sh /tmp/haas-deps/
# The runtime libraries, and the capability to bind ports below 1024 given to
# mosquitto alone: the managed broker (haas-emu's child) listens on 443 for
# HaaS firmware, without root. libcap2-bin only brings setcap and leaves in
# the same layer. The container must keep NET_BIND_SERVICE, which docker and
# podman grant by default (`--cap-drop ALL` needs `--cap-add
# NET_BIND_SERVICE`, or mosquitto cannot be started).
RUN sh /tmp/haas-deps/install-deps.sh /tmp/haas-deps/debian-runtime-packages.txt \
 && apt-get install -y -qq --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/sbin/mosquitto \
 && apt-get purge -y -qq --auto-remove libcap2-bin \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/haas-deps \
 && groupadd --gid 10001 haas \
 && useradd --uid 10001 --gid haas --home-dir /data --no-create-home --shell /usr/sbin/nologin haas \
 && mkdir -p /data \
 && chown haas:haas /data

# haas-emu loads haas_auth.so from beside itself and serves the console from
# ../web (server/src/main.c, find_web_dir), as in the source tree.
COPY --from=build /src/build/haas-emu /src/build/haas_auth.so /src/build/haas-device /opt/haas-emu/build/
COPY --from=build /src/web /opt/haas-emu/web

# HTTP (API, console, package downloads) and MQTT; 443 for real HaaS firmware
# that insists on it (see README, "A real Core2 on the LAN"); MQTT over TLS
# and HTTPS with the local CA kept in /data/tls.
EXPOSE 8080 1883 443 8883 8443
ENV HAAS_BIND=0.0.0.0 \
    HAAS_DATA_DIR=/data \
    HAAS_MQTT_EXTRA_PORT=443 \
    PATH=/opt/haas-emu/build:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VOLUME /data
WORKDIR /data
USER 10001:10001
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
    CMD curl -fsS "http://127.0.0.1:${HAAS_HTTP_PORT:-8080}/healthz" || exit 1
ENTRYPOINT ["/opt/haas-emu/build/haas-emu"]
