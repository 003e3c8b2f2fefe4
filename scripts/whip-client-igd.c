/*
 * A stand-in for libgupnp-igd-1.0.so.4 (UPnP port mapping), for Debian
 * 12's whip-client alone: its libnice links libgupnp-igd, which links
 * libsoup 3, while whip-client links libsoup 2.4, and libsoup 3 aborts a
 * process that has both ("libsoup2 symbols detected"). libnice asks for a
 * UPnP agent and goes on without one when it gets NULL, so these four
 * symbols, the only ones libnice takes from the library, do nothing.
 * scripts/whip-publish.sh builds it and puts it first on the loader's path.
 */
#include <stddef.h>

void *gupnp_simple_igd_thread_new(void) { return NULL; }
unsigned long gupnp_simple_igd_get_type(void) { return 0; }
void gupnp_simple_igd_add_port(void *igd) { (void)igd; }
void gupnp_simple_igd_remove_port_local(void *igd) { (void)igd; }
