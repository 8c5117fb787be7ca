/*
 * prefork.h - several accepting processes on one FastCGI socket.
 *
 * lighttpd gives each of a program's max-procs processes its own socket
 * and hands a request to one of them even while that one is busy, so a
 * request can queue for seconds behind one parked on a slow KOS while
 * another process idles.  With PHONEBILL_FCGI_CHILDREN=N (2..64; 1: no
 * fork) in the environment, the process the web server spawned forks N
 * children that all accept on its socket (fd 0), the way PHP_FCGI_CHILDREN
 * does: the kernel's accept queue is one queue for all of them and a free
 * child takes the next connection.  Run lighttpd with max-procs 1 then.
 *
 * The parent does nothing else: no config, no connections.  It restarts
 * a child that dies (after PREFORK_RESPAWN_MS), and on SIGTERM, SIGINT or
 * SIGUSR1 it passes SIGTERM on and waits for the children.  A child dies
 * with its parent (PR_SET_PDEATHSIG): nothing outlives a SIGKILLed parent.
 * Unset (mod_fcgid, spawn-fcgi), nothing is forked.
 */
#ifndef PB_PREFORK_H
#define PB_PREFORK_H

#define PB_PREFORK_ENV "PHONEBILL_FCGI_CHILDREN"
#define PB_PREFORK_MAX 64 /* children at most */
#define PB_OWN_SOCKET_ENV "PHONEBILL_FCGI_OWN_SOCKET"

/*
 * Read PB_PREFORK_ENV and fork.  Returns 1 in a child (and in the process
 * itself when the variable is unset: carry on serving), 0 in the parent
 * once every child has ended after a stop signal (*status: exit status),
 * -1 for a bad value (*status 1; logged).
 */
int pb_prefork(int *status);

/*
 * On a stop: with PB_OWN_SOCKET_ENV=1 in the environment (lighttpd's
 * bin-path gives each process it spawns a socket of its own), unlink the
 * path of the unix socket listen_fd listens on, so the web server's next
 * connect fails and goes to another process, while the connections
 * already queued stay acceptable.  Nothing otherwise: in a prefork child
 * (its siblings share the socket; the variable is cleared there), for an
 * abstract or non-unix socket.
 */
void pb_prefork_let_go(int listen_fd);

#endif
