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
tcp2_worker_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	if (!worker_cpus(&set) || pthread_attr_init(&attr) != 0)
		return -1;
	/* Only a hint: without it the worker still works, just slower. */
	(void)pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	rc = pthread_create(th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}
