# syntax=docker/dockerfile:1
# cdnserve: one static binary in a distroless, non-root image.
#
#   docker build --build-arg VERSION=1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) -t cdnserve .
#   docker run -p 8080:8080 -v /srv/dist:/srv/dist:ro cdnserve
#   docker run -p 8080:8080 -e CDNSERVE_STORAGE='s3://assets/cdn?region=eu-west-1' -e AWS_REGION=eu-west-1 cdnserve
#
# Every setting is a CDNSERVE_* variable (see docs/operations.md). CI checks
# what this image holds without a Docker engine: TestStaticBinaryInEmptyRoot
# builds the binary with the flags below and serves from a chroot that
# holds only the binary, CA certificates and a dist tree.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/cdnserve ./cmd/cdnserve

# distroless/static: CA certificates, /etc/passwd with nonroot (65532),
# tzdata; no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cdnserve /cdnserve
ENV CDNSERVE_STORAGE=/srv/dist \
    CDNSERVE_ADDR=:8080 \
    CDNSERVE_LOG_FORMAT=json
VOLUME /srv/dist
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s CMD ["/cdnserve", "healthcheck"]
ENTRYPOINT ["/cdnserve"]
CMD ["serve"]
