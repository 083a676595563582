# A service image: health check expected, shell-form commands reported.
# ignore: HK1001 HK1051
FROM alpine:3.20.0 AS base
# want: HK1052:warn
FROM base
EXPOSE 8080
# want: HK1080:warn
HEALTHCHECK CMD wget -qO- http://localhost:8080/health || exit 1
# want: HK1080
CMD /app --port 8080
