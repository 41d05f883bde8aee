/*
 * preload_threads: a multithreaded program that never asked for ucw-asio
 * (t_preload.sh runs it with LD_PRELOAD=libucw-asio.so).
 *
 *  - 8 threads add to a shared counter under a mutex, 100000 times each, and
 *    meet at a barrier 100 times; each keeps a __thread total of its own;
 *  - two threads play ping-pong with a condition variable, 2000 rounds;
 *  - 200 short threads are created and joined one after the other, each
 *    returning its argument.
 * Prints "libucw-asio mapped: yes|no", "engine mapped: yes|no", "threads at
 * start: N", then "threads: ok".
 */

#include "preload_common.h"

#include <pthread.h>
#include <stdint.h>

#define THREADS 8
#define ADDS 100000
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t barrier;
static long counter;
static __thread long mine;

static void *adder(void *arg)
{
	int i;
	(void)arg;
	for (i = 0; i < ADDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		mine++;
		if (i % (ADDS / 100) == 0)
			pthread_barrier_wait(&barrier);
	}
	return (void *)(intptr_t)mine;
}

static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *player(void *arg)
{
	int me = (int)(intptr_t)arg, i;
	for (i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		while (turn != me)
			pthread_cond_wait(&turn_cond, &lock);
		turn = !me;
		rounds++;
		pthread_cond_broadcast(&turn_cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *echo(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[THREADS];
	void *ret;
	int i;

	pc_report("");
	CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0, "pthread_barrier_init failed");
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, adder, NULL) == 0, "pthread_create failed");
	for (i = 0; i < THREADS; i++) {
		CHECK(pthread_join(t[i], &ret) == 0, "pthread_join failed");
		CHECK((intptr_t)ret == ADDS, "thread %d counted %ld in its __thread variable, expected %d", i,
		      (long)(intptr_t)ret, ADDS);
	}
	CHECK(counter == (long)THREADS * ADDS, "counter %ld, expected %ld", counter, (long)THREADS * ADDS);

	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, player, (void *)(intptr_t)i) == 0, "pthread_create failed");
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(rounds == 2 * ROUNDS, "ping-pong: %d turns, expected %d", rounds, 2 * ROUNDS);

	for (i = 0; i < 200; i++) {
		CHECK(pthread_create(&t[0], NULL, echo, (void *)(intptr_t)(i + 1)) == 0, "pthread_create #%d failed", i);
		CHECK(pthread_join(t[0], &ret) == 0 && (intptr_t)ret == i + 1, "short thread #%d returned %ld", i,
		      (long)(intptr_t)ret);
	}
	printf("threads: ok\n");
	return 0;
}
