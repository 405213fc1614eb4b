# Gatehouse in a container: a static binary on distroless, run as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t gatehouse .
#   docker run -p 8080:8080 -v gatehouse-data:/data gatehouse
#
# No HEALTHCHECK: the image has no shell or curl; orchestrators probe
# /healthz (alive) and /readyz (database reachable) over HTTP.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
# The SQLite file lives in /data, owned by the image's non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
# The admin listener (/metrics) listens on the container's network, for
# Prometheus inside the cluster; publish 8080 only.
ENV GATEHOUSE_ADDR=:8080 \
    GATEHOUSE_ADMIN_ADDR=:9090 \
    GATEHOUSE_SQLITE_PATH=/data/gatehouse.db
USER 65532:65532
VOLUME /data
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve"]
