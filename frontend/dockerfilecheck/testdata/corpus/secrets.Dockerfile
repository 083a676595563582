# Secret values: public key fingerprints and placeholders are not secrets.
# ignore: HK1001 HK1052 HK1090 HK1051 HK1030 HK1031 HK1020
FROM debian:12.5
ENV NGINX_GPGKEYS="573BFD6B3D8FBC641079A6ABABF5BD827BD9BF62 8540A6F18833A80E9C1653A42FD21310B49F6B46"
RUN set -eux; for key in $NGINX_GPGKEYS; do gpg --batch --keyserver hkps://keyserver.ubuntu.com --recv-keys "$key"; done
RUN set -eux; key='B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8'; export GNUPGHOME="$(mktemp -d)"; gpg --batch --keyserver keyserver.ubuntu.com --recv-keys "$key"; gpg --batch --export "$key" > /etc/apt/keyrings/postgres.gpg
RUN key='BCA4 3417 C3B4 85DD 128E  C6D4 B7B3 B788 A8D3 785C'; gpg --batch --recv-keys "$key"
RUN echo "deb [signed-by=/etc/apt/keyrings/a.gpg] https://apt.example.com stable main" > /etc/apt/sources.list.d/a.list
RUN SECRET_KEY_BASE=precompile_placeholder bundle exec rails assets:precompile
RUN SECRET_KEY_BASE_DUMMY=1 bundle exec rails assets:precompile
# want: HK1060
ENV API_TOKEN=<your-token-here>
# want: HK1060 HK1061
ENV API_TOKEN=9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c
# want: HK1061
RUN key='ghp_4fT9kLm2Qx8Rz7Vb1Nc6Hd3Js5Pw0Ye9Ua2'; gpg --batch --recv-keys "$key"
# want: HK1061
RUN DATABASE_PASSWORD=Zx8q2LmN4vB7rT1w bin/migrate
RUN echo "deb [trusted=yes] file:///tmp/pkgs ./" > /etc/apt/sources.list.d/local.list && apt-get update && apt-get install -y ./tmp/pkgs/*.deb
# want: HK1022
RUN echo "deb [trusted=yes] http://mirror.example.com/debian bookworm main" > /etc/apt/sources.list.d/x.list
USER 65532:65532
