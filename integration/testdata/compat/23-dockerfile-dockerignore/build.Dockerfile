FROM busybox
COPY . /src
