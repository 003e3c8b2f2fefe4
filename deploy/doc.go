// Package deploy holds no code: its tests check the shipped deployment
// files (../docker-compose.yml, Caddyfile) for what a safe deployment
// needs, and that coturn and docker-compose accept them.
package deploy
