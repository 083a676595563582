# A service built FROM an earlier stage without a HEALTHCHECK.
# ignore: HK1001 HK1051
FROM alpine:3.20.0 AS base
ENTRYPOINT ["/app"]
# want: HK1090:warn
FROM base
USER 65532
