/*
 * worker.h - a helper thread kept off its creator's CPU.
 *
 * tcp2-mail overlaps work on a second thread: the signature's hash
 * (hasher.c) and the writing of its output (daemon/tools/sink.c).  Left
 * to itself, the scheduler queues a woken thread on its waker's CPU,
 * behind the waker, and the two then take turns on one CPU (a 10 MB
 * decrypt: 27 ms, 22.8 with the worker kept off the writer's CPU).  So a
 * worker may run on any allowed CPU but the one its creator is on when it
 * starts; the creator is not pinned, and keeps its CPU because it sleeps
 * only when it waits for the worker.  With one CPU allowed there is no
 * worker: it could only take turns with its creator.
 *
 * A worker comes with the mutex and condition variable its owner and it
 * share, and the flag that tells it to finish.
 */
#ifndef TCP2_WORKER_H
#define TCP2_WORKER_H

#include <pthread.h>

struct tcp2_worker {
	pthread_t th;
	pthread_mutex_t mu;	/* guards stop and the owner's shared state */
	pthread_cond_t cv;	/* either side waits on it */
	int stop;		/* set by tcp2_worker_stop */
};

/*
 * Initialise w and start fn(arg) on a thread named name (at most 15
 * characters: what top -H, ps -L and perf show) that may not run on the
 * caller's current CPU.  Returns 0, or -1 when only one CPU is allowed or
 * the thread could not be created (w is then unused, nothing to undo: the
 * caller does the work itself).
 */
int tcp2_worker_start(struct tcp2_worker *w, const char *name,
    void *(*fn)(void *), void *arg);

/* Set w->stop under the mutex, wake the worker, wait for it to return,
 * and release w.  fn must return once it sees stop (after finishing what
 * its owner asked for, if it chooses). */
void tcp2_worker_stop(struct tcp2_worker *w);

#endif /* TCP2_WORKER_H */
