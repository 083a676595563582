package dockerfilecheck

import "testing"

func TestTLSVerificationDisabled(t *testing.T) {
	runRuleCases(t, "HK1021", []ruleCase{
		{name: "curl -k", df: "FROM alpine:3.20\nRUN curl -k https://x.example/f -o f\n", want: []int{2}, msg: "curl -k"},
		{name: "curl grouped flags", df: "FROM alpine:3.20\nRUN curl -fsSLk https://x.example/f -o f\n", want: []int{2}},
		{name: "curl --insecure", df: "FROM alpine:3.20\nRUN curl --insecure https://x.example/f\n", want: []int{2}, msg: "--insecure"},
		{name: "curl option value is not a flag", df: "FROM alpine:3.20\nRUN curl -H k -ok https://x.example/f\n"},
		{name: "curl with a CA", df: "FROM alpine:3.20\nRUN curl --cacert /ca.pem https://x.example/f\n"},
		{name: "wget", df: "FROM alpine:3.20\nRUN wget --no-check-certificate https://x.example/f\n", want: []int{2}},
		{name: "wget -e", df: "FROM alpine:3.20\nRUN wget -e check_certificate=off https://x.example/f\n", want: []int{2}},
		{name: "pip trusted host", df: "FROM python:3.12\nRUN pip install --trusted-host pypi.example.com app==1.0\n", want: []int{2}},
		{name: "python -m pip trusted host", df: "FROM python:3.12\nRUN python3 -m pip install --trusted-host=pypi.example.com app==1.0\n", want: []int{2}},
		{name: "pip config", df: "FROM python:3.12\nRUN pip config set global.trusted-host pypi.example.com\n", want: []int{2}},
		{name: "npm strict-ssl", df: "FROM node:22\nRUN npm config set strict-ssl false\n", want: []int{2}},
		{name: "npm strict-ssl=false", df: "FROM node:22\nRUN npm set strict-ssl=false\n", want: []int{2}},
		{name: "npm strict-ssl true", df: "FROM node:22\nRUN npm config set strict-ssl true\n"},
		{name: "git -c", df: "FROM alpine:3.20\nRUN git -c http.sslVerify=false clone https://x.example/r.git\n", want: []int{2}},
		{name: "git config", df: "FROM alpine:3.20\nRUN git config --global http.sslverify false\n", want: []int{2}},
		{name: "git url-scoped config", df: "FROM alpine:3.20\nRUN git config --global http.https://x.example/.sslVerify 0\n", want: []int{2}},
		{name: "GIT_SSL_NO_VERIFY inline", df: "FROM alpine:3.20\nRUN GIT_SSL_NO_VERIFY=1 git clone https://x.example/r.git\n", want: []int{2}},
		{name: "export", df: "FROM alpine:3.20\nRUN export NODE_TLS_REJECT_UNAUTHORIZED=0 && npm ci\n", want: []int{2}},
		{name: "env wrapper", df: "FROM alpine:3.20\nRUN env GIT_SSL_NO_VERIFY=true git clone https://x.example/r.git\n", want: []int{2}},
		{name: "ENV", df: "FROM node:22\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\n", want: []int{2}, msg: "ENV sets NODE_TLS_REJECT_UNAUTHORIZED=0"},
		{name: "ENV verification on", df: "FROM node:22\nENV NODE_TLS_REJECT_UNAUTHORIZED=1\n"},
		{name: "ARG default", df: "FROM alpine:3.20\nARG GIT_SSL_NO_VERIFY=1\n", want: []int{2}},
		{name: "ARG without value", df: "FROM alpine:3.20\nARG GIT_SSL_NO_VERIFY\n"},
		{name: "go env -w", df: "FROM golang:1.22\nRUN go env -w GOINSECURE=example.com\n", want: []int{2}},
		{name: "ARG-expanded curl flags", df: "FROM alpine:3.20\nARG CURL_OPTS=-fsSLk\nRUN curl $CURL_OPTS https://x.example/f\n", want: []int{3}},
		{name: "ARG-expanded ENV value", df: "ARG VERIFY=0\nFROM node:22\nARG VERIFY\nENV NODE_TLS_REJECT_UNAUTHORIZED=${VERIFY}\n", want: []int{4}},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN <<EOF\napk add curl\ncurl -k https://x.example/f\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nRUN apk add wget && \\\n    wget \\\n      --no-check-certificate https://x.example/f\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN curl §\n  -k https://x.example/f\n"), want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN curl -k https://x.example/f -o /f\nFROM scratch\nCOPY --from=b /f /f\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN curl -k https://x.example/f\n", want: []int{2}, msg: "ONBUILD RUN"},
		{name: "ONBUILD ENV", df: "FROM alpine:3.20\nONBUILD ENV GIT_SSL_NO_VERIFY=1\n", want: []int{2}, msg: "ONBUILD ENV"},
	})
}

func TestPackageSignatureCheckDisabled(t *testing.T) {
	runRuleCases(t, "HK1022", []ruleCase{
		{name: "apt-get allow-unauthenticated", df: "FROM debian:bookworm\nRUN apt-get install -y --allow-unauthenticated curl=7\n", want: []int{2}},
		{name: "apt insecure repositories", df: "FROM debian:bookworm\nRUN apt-get update --allow-insecure-repositories\n", want: []int{2}},
		{name: "apt -o option", df: "FROM debian:bookworm\nRUN apt-get -o APT::Get::AllowUnauthenticated=true install -y x=1\n", want: []int{2}},
		{name: "apt trusted source", df: "FROM debian:bookworm\nRUN echo 'deb [trusted=yes] http://repo.example/ ./' > /etc/apt/sources.list.d/x.list\n", want: []int{2}, msg: "trusted=yes"},
		{name: "apt signed-by source", df: "FROM debian:bookworm\nRUN echo 'deb [signed-by=/k.gpg] http://repo.example/ ./' > /etc/apt/sources.list.d/x.list\n"},
		{name: "apk", df: "FROM alpine:3.20\nRUN apk add --allow-untrusted /tmp/x.apk\n", want: []int{2}},
		{name: "yum nogpgcheck", df: "FROM rockylinux:9\nRUN yum install -y --nogpgcheck httpd-2.4.57\n", want: []int{2}},
		{name: "dnf setopt", df: "FROM fedora:40\nRUN dnf install -y --setopt=gpgcheck=0 httpd-2.4.57\n", want: []int{2}},
		{name: "rpm nosignature", df: "FROM fedora:40\nRUN rpm -i --nosignature /tmp/x.rpm\n", want: []int{2}},
		{name: "zypper", df: "FROM opensuse/leap:15.6\nRUN zypper --no-gpg-checks install -y vim=9\n", want: []int{2}},
		{name: "repo file heredoc", df: "FROM fedora:40\nCOPY <<EOF /etc/yum.repos.d/x.repo\n[x]\nbaseurl=https://repo.example/\ngpgcheck=0\nEOF\n", want: []int{2}, msg: "COPY sets gpgcheck=0"},
		{name: "repo file with gpgcheck on", df: "FROM fedora:40\nCOPY <<EOF /etc/yum.repos.d/x.repo\n[x]\ngpgcheck=1\nEOF\n"},
		{name: "GOSUMDB off", df: "FROM golang:1.22\nENV GOSUMDB=off\n", want: []int{2}},
		{name: "signed install", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl=7.88\n"},
		{name: "ARG-expanded flag", df: "FROM alpine:3.20\nARG APK_FLAGS=--allow-untrusted\nRUN apk add $APK_FLAGS x=1\n", want: []int{3}},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN <<EOF\napk add --allow-untrusted x=1\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM debian:bookworm\nRUN apt-get install -y \\\n  --allow-unauthenticated \\\n  x=1\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN apk add §\n  --allow-untrusted x=1\n"), want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN apk add --allow-untrusted x=1\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN apk add --allow-untrusted x=1\n", want: []int{2}, msg: "ONBUILD RUN"},
	})
}
