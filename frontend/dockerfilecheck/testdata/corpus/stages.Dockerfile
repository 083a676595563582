# Users, health checks, upgrades and base tags across stages.
# ignore: HK1001 HK1051 HK1030 HK1031
FROM golang:1.22.2 AS build
# want: HK1032:warn
RUN apt-get update && apt-get upgrade -y && apt-get install -y --no-install-recommends git=1:2.39.2-1.1
# want: HK1032:enforce
RUN apt-get update && apt-get dist-upgrade -y
# want: HK1003
FROM alpine:edge AS edge
# want: HK1003
FROM alpine:latest AS latest
# want: HK1003
FROM nginx:stable-alpine AS channel
FROM nginx:1.25-alpine AS versioned
FROM alpine:3.20.0 AS nightlydated
# want: HK1052:warn
FROM scratch AS binary
COPY --from=build /go/bin/app /app
