# haas-emu in a container: the same Debian 12 packages (server/debian-packages.txt,
# installed by the same script `make run` uses) and the same `make` build.
FROM debian:12-slim

WORKDIR /src
COPY server/debian-packages.txt server/install-deps.sh server/
RUN sh server/install-deps.sh server/debian-packages.txt && rm -rf /var/lib/apt/lists/*

COPY . .
RUN make

# HTTP (API, console, package downloads) and MQTT; 443 for real HaaS firmware
# that insists on it (see README, "A real Core2 on the LAN"); MQTT over TLS
# and HTTPS with the local CA kept in /data/tls.
EXPOSE 8080 1883 443 8883 8443
VOLUME /data
ENV HAAS_BIND=0.0.0.0 \
    HAAS_DATA_DIR=/data \
    HAAS_MQTT_EXTRA_PORT=443
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/src/build/haas-emu"]
