/*
 * worker.c - start a helper thread off its creator's CPU (see worker.h).
 */
#include <pthread.h>
#include <sched.h>

#include "worker.h"

/*
 * The CPUs a worker may use: those the process may, but the caller's
 * current one.  Returns 0 when that leaves none.
 */
static int
worker_cpus(cpu_set_t *set)
{
	int me = sched_getcpu();

	if (sched_getaffinity(0, sizeof(*set), set) != 0 ||
	    CPU_COUNT(set) < 2)
		return 0;
	if (me >= 0 && me < CPU_SETSIZE)
		CPU_CLR(me, set);
	return 1;
}

int
tcp2_worker_start(struct tcp2_worker *w, const char *name,
    void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	if (!worker_cpus(&set) || pthread_attr_init(&attr) != 0)
		return -1;
	w->stop = 0;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Only a hint: without it the worker still works, just slower. */
	(void)pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	rc = pthread_create(&w->th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return -1;
	}
	(void)pthread_setname_np(w->th, name);	/* for people, not for us */
	return 0;
}

void
tcp2_worker_stop(struct tcp2_worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}
