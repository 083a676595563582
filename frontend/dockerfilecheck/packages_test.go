package dockerfilecheck

import "testing"

func TestPackageVersionNotPinned(t *testing.T) {
	runRuleCases(t, "HK1030", []ruleCase{
		{name: "apt-get unpinned", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl git=1:2.39.5-0+deb12u1\n", want: []int{2}, msg: "installs curl without"},
		{name: "apt-get pinned", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8 ./local.deb\n"},
		{name: "apt option values are not packages", df: "FROM debian:bookworm\nRUN apt-get -o Dpkg::Options::=--force-confnew -t bookworm-backports install -y x=1\n"},
		{name: "apt with sudo and env", df: "FROM debian:bookworm\nRUN DEBIAN_FRONTEND=noninteractive sudo apt install -y vim\n", want: []int{2}},
		{name: "apk", df: "FROM alpine:3.20\nRUN apk add --no-cache --virtual .deps curl bash=5.2.26-r0 'tzdata~2024'\n", want: []int{2}, msg: "installs curl without"},
		{name: "apk pinned", df: "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r1\n"},
		{name: "pip", df: "FROM python:3.12\nRUN pip install --no-cache-dir flask==3.0.3 requests 'django>=4'\n", want: []int{2}, msg: "requests, django>=4"},
		{name: "pip requirements and local", df: "FROM python:3.12\nRUN pip install -r requirements.txt -e . ./dist/app-1.0-py3-none-any.whl\n"},
		{name: "python -m pip", df: "FROM python:3.12\nRUN python3 -m pip install --upgrade pip\n", want: []int{2}},
		{name: "npm", df: "FROM node:22\nRUN npm install -g @angular/cli@17.3.8 typescript left-pad@latest\n", want: []int{2}, msg: "typescript, left-pad@latest"},
		{name: "npm from lockfile", df: "FROM node:22\nRUN npm ci && npm install\n"},
		{name: "npm range", df: "FROM node:22\nRUN npm i -g pnpm@^9\n", want: []int{2}},
		{name: "gem", df: "FROM ruby:3.3\nRUN gem install bundler rails:7.1.3\n", want: []int{2}, msg: "installs bundler without"},
		{name: "gem -v", df: "FROM ruby:3.3\nRUN gem install bundler -v 2.5.6\n"},
		{name: "yum", df: "FROM rockylinux:9\nRUN yum install -y httpd-2.4.57 mod_ssl\n", want: []int{2}, msg: "mod_ssl"},
		{name: "dnf pinned", df: "FROM fedora:40\nRUN dnf install -y --setopt=install_weak_deps=False httpd-2.4.62-1.fc40\n"},
		{name: "microdnf", df: "FROM registry.access.redhat.com/ubi9/ubi-minimal\nRUN microdnf install -y shadow-utils\n", want: []int{2}},
		{name: "unresolved variable is not judged", df: "FROM debian:bookworm\nRUN apt-get install -y $PACKAGES\n"},
		{name: "ARG-expanded pins", df: "FROM alpine:3.20\nARG CURL_VERSION=8.9.1-r1\nRUN apk add --no-cache curl=${CURL_VERSION}\n"},
		{name: "ARG-expanded package list", df: "FROM debian:bookworm\nARG PKGS=\"curl wget\"\nRUN apt-get install -y $PKGS\n", want: []int{3}, msg: "curl, wget"},
		{name: "heredoc", df: "FROM debian:bookworm\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM debian:bookworm\nRUN apt-get update \\\n && apt-get install -y \\\n      curl \\\n && rm -rf /var/lib/apt/lists/*\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM debian:bookworm\nRUN apt-get install -y §\n  curl\n"), want: []int{3}},
		{name: "multi-stage builder", df: "FROM golang:1.22 AS b\nRUN apt-get install -y make\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM node:22\nONBUILD RUN npm install -g yarn\n", want: []int{2}, msg: "ONBUILD RUN"},
	})
}

func TestUpdateWithoutInstall(t *testing.T) {
	runRuleCases(t, "HK1031", []ruleCase{
		{name: "update alone", df: "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl=7\n", want: []int{2}, msg: "apt-get update"},
		{name: "update and install", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl=7\n"},
		{name: "apt update alone", df: "FROM debian:bookworm\nRUN apt update -q\n", want: []int{2}},
		{name: "apk update alone", df: "FROM alpine:3.20\nRUN apk update\n", want: []int{2}},
		{name: "update and upgrade counts as using the index", df: "FROM debian:bookworm\nRUN apt-get update && apt-get dist-upgrade -y\n"},
		{name: "heredoc", df: "FROM debian:bookworm\nRUN <<EOF\napt-get update\nEOF\n", want: []int{2}},
		{name: "heredoc with install", df: "FROM debian:bookworm\nRUN <<EOF\napt-get update\napt-get install -y x=1\nEOF\n"},
		{name: "line continuation", df: "FROM debian:bookworm\nRUN apt-get \\\n  update\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM debian:bookworm\nRUN apt-get §\n  update\n"), want: []int{3}},
		{name: "ARG-expanded tool", df: "FROM debian:bookworm\nARG APT=apt-get\nRUN $APT update\n", want: []int{3}},
		{name: "multi-stage builder", df: "FROM debian:bookworm AS b\nRUN apt-get update\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM debian:bookworm\nONBUILD RUN apt-get update\n", want: []int{2}},
	})
}

func TestPackageUpgradeAll(t *testing.T) {
	runRuleCases(t, "HK1032", []ruleCase{
		{name: "apt-get upgrade", df: "FROM debian:bookworm\nRUN apt-get update && apt-get upgrade -y\n", want: []int{2}, msg: "apt-get upgrade"},
		{name: "dist-upgrade", df: "FROM debian:bookworm\nRUN apt-get update && apt-get -y dist-upgrade\n", want: []int{2}},
		{name: "apk upgrade", df: "FROM alpine:3.20\nRUN apk upgrade --no-cache\n", want: []int{2}},
		{name: "yum update", df: "FROM rockylinux:9\nRUN yum -y update\n", want: []int{2}},
		{name: "yum update of one package", df: "FROM rockylinux:9\nRUN yum -y update openssl-3.0.7\n"},
		{name: "dnf upgrade", df: "FROM fedora:40\nRUN dnf upgrade -y --refresh\n", want: []int{2}},
		{name: "zypper dup", df: "FROM opensuse/leap:15.6\nRUN zypper -n dup\n", want: []int{2}},
		{name: "install only", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --only-upgrade x=1\n"},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN <<EOF\napk upgrade\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM debian:bookworm\nRUN apt-get update && \\\n  apt-get full-upgrade -y\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN apk §\n  upgrade\n"), want: []int{3}},
		{name: "ARG-expanded verb", df: "FROM debian:bookworm\nARG MODE=dist-upgrade\nRUN apt-get -y $MODE\n", want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN apk upgrade\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN apk upgrade\n", want: []int{2}},
	})
}
