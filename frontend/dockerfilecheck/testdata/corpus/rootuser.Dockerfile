# The last USER decides; builder stages may be root.
# ignore: HK1001 HK1051 HK1090
FROM debian:12.5 AS builder
USER root
RUN true
FROM debian:12.5
USER app
RUN true
# want: HK1050
USER 0:0
# want: HK1042
RUN sudo apt-get install -y vim=2:9.0.1378-2
# want: HK1043
EXPOSE 22
