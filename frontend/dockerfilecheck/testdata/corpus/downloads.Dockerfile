# Downloads: verified or not, run or not.
# ignore: HK1001 HK1052 HK1090 HK1051
FROM debian:12.5 AS tools
# want: HK1020
RUN curl -fsSL https://get.example.com/install.sh | sh
# want: HK1020
RUN wget -q https://example.com/tool-1.2.tar.gz -O /tmp/tool.tar.gz && tar -xzf /tmp/tool.tar.gz -C /opt && /opt/tool/install.sh
# want: HK1020
RUN curl -fsSLo /tmp/setup.sh https://example.com/setup.sh && bash /tmp/setup.sh --prefix /usr/local
# want: HK1020
RUN curl -fsSL https://example.com/helm-v3.14.0-linux-amd64.tar.gz | tar -xz -C /usr/local/bin --strip-components=1
# want: HK1020
RUN curl -fsSLO https://example.com/kubectl && chmod +x kubectl && mv kubectl /usr/local/bin/
RUN curl -fsSLo /tmp/go.tgz https://go.dev/dl/go1.22.2.linux-amd64.tar.gz \
 && echo "5901c52b7a78002aeff14a21f93e0f064f74ce1360fce51c6ee68cd471216a17  /tmp/go.tgz" | sha256sum -c - \
 && tar -C /usr/local -xzf /tmp/go.tgz
RUN wget -O node.tar.xz https://nodejs.org/dist/v20.12.2/node-v20.12.2-linux-x64.tar.xz \
 && wget -O SHASUMS256.txt.asc https://nodejs.org/dist/v20.12.2/SHASUMS256.txt.asc \
 && gpg --batch --verify SHASUMS256.txt.asc \
 && tar -xJf node.tar.xz -C /usr/local --strip-components=1
RUN curl -fsSLo /tmp/versions.json https://example.com/versions.json && cat /tmp/versions.json
# want: HK1021
RUN curl -k -fsSLo /tmp/a.txt https://example.com/a.txt
# want: HK1010
ADD https://example.com/app.tar.gz /tmp/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/app.tar.gz /tmp/
FROM debian:12.5
# want: HK1030
RUN git clone https://github.com/example/app /src && make -C /src install
RUN git clone --branch v2.3.1 --depth 1 https://github.com/example/app /src
RUN git clone https://github.com/example/app /src && git -C /src checkout 3e1f0c2
# want: HK1030
RUN git clone --branch=main https://github.com/example/app /src
COPY --from=tools /usr/local/go /usr/local/go
USER 65532:65532
