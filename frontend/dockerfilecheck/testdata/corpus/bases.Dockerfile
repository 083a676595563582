# Base images named through global ARGs.
# ignore: HK1001 HK1052 HK1090
ARG REGISTRY
ARG TAG=3.20.0
# want: HK1003
FROM ${REGISTRY}/ubuntu AS noversion
FROM ${REGISTRY}/alpine:${TAG} AS versioned
# want: HK1003
FROM ubuntu:rolling AS rolling
FROM debian:bookworm-20240513-slim
