# The broadcast binary, with the pages and the pinned socket.io client
# embedded, on a distroless base. Built by docker-compose.yml.

# The socket.io client, from the committed lock.
FROM node:20-bookworm-slim AS client
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=client /src/node_modules/socket.io-client/dist/socket.io.js static/vendor/socket.io.js
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/broadcast ./cmd/broadcast

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/broadcast /broadcast
# The public port. /metrics listens apart, on 127.0.0.1:9090 unless
# BROADCAST_METRICS_ADDR says otherwise (docker-compose.yml: :9090, for a
# scraper on the compose network; never published).
EXPOSE 8080
ENTRYPOINT ["/broadcast"]
CMD ["serve"]
