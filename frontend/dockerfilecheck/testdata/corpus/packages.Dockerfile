# Package installs: pinned, local and floating forms.
# ignore: HK1001 HK1052 HK1090 HK1051
FROM debian:12.5 AS build
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates=20230311 curl=7.88.1-10+deb12u5 && rm -rf /var/lib/apt/lists/*
# want: HK1030
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
RUN apt-get install -s nginx
RUN apt-get install -y ./dist/app_1.0_amd64.deb
RUN pip install --no-cache-dir ./wheelhouse
RUN pip install vendor/mylib
RUN pip install -c constraints.txt flask gunicorn
RUN pip install --constraint=constraints.txt requests
RUN pip install -r requirements.txt
RUN pip install "django==4.2.11" celery==5.3.6
# want: HK1030
RUN pip install flask
# want: HK1030
RUN pip install 'flask>=2.0'
# want: HK1030
RUN pip install git+https://github.com/example/lib.git#egg=lib
RUN pip install git+https://github.com/example/lib.git@8f3c2a1b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a#egg=lib
# want: HK1030
RUN pip install https://github.com/example/lib/archive/main.zip
RUN pip install https://github.com/example/lib/archive/v1.4.2.tar.gz
# want: HK1030
RUN pipx install poetry
RUN pipx install poetry==1.8.2
RUN npm install -g ./package.tar
RUN npm install ./local-dir
RUN npm install -g typescript@5.4.5
# want: HK1030
RUN npm install -g typescript
# want: HK1030
RUN npm install git+https://github.com/example/tool.git
RUN npm install git+https://github.com/example/tool.git#4f2c9e1
# want: HK1030
RUN npm install github:example/tool#main
RUN gem install bundler:2.0.1 -- --use-system-libraries
RUN gem install rake -v 13.1.0
# want: HK1030
RUN gem install rails
# want: HK1030
RUN gem i nokogiri
FROM golang:1.22.2 AS gotools
# want: HK1030
RUN go install golang.org/x/tools/cmd/goimports@latest
# want: HK1030
RUN go install github.com/example/cli
RUN go install github.com/example/cli@v1.2.3
RUN go install ./cmd/server
RUN go build -o /out/server ./cmd/server
# want: HK1030
RUN go get github.com/example/lib@master
# want: HK1030
RUN go run github.com/example/gen@latest -out x.go
RUN go run github.com/example/gen@v0.4.1 -out x.go
RUN go run ./tools/gen.go
FROM rockylinux:9.3 AS rpm
RUN dnf install -y nginx-1.20.1 && dnf clean all
# want: HK1030
RUN dnf module install -y nodejs && dnf clean all
RUN dnf module install -y nodejs:20 && dnf clean all
# want: HK1030
RUN microdnf install -y tar && microdnf clean all
FROM alpine:3.20.0
RUN apk add --no-cache ca-certificates=20240226-r0
# want: HK1030
RUN apk add --no-cache curl
USER 65532:65532
