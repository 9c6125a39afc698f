/* Dropout with counter-based random numbers (Philox4x32-10), for d2l_ext/fast_dropout.py.
 *
 * Whether element i is kept is a pure function of (seed, i): a 32-bit word of Philox4x32-10 with
 * key = seed and a counter derived from i (the layout is below), compared with a threshold. The
 * backward pass regenerates the mask instead of storing it, and every thread count and every
 * instruction set gives the same mask; d2l_ext/fast_dropout.py computes the same bits in torch ops.
 * Plain C with a C ABI, called through ctypes: no Python or torch headers, compiles in a second.
 */
#include <pthread.h>
#include <stdint.h>

#define BLOCK 1024       /* elements per block; part of the mask's definition */
#define CALLS (BLOCK / 4) /* Philox calls per block, 4 words each */

/* GCC builds one copy per instruction set and picks the best at load time (glibc ifunc). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

/* Element e of block b keeps its value iff word e / CALLS of Philox call e % CALLS, whose counter
 * is b * CALLS + e % CALLS, is >= threshold. In this layout the words of CALLS consecutive calls
 * cover contiguous runs of elements, so that every loop vectorizes. */
#define DEFINE_APPLY(NAME, T)                                                                  \
    MULTIVERSION static void NAME(const T *x, T *y, int64_t begin, int64_t end, uint32_t k0,   \
                                  uint32_t k1, uint32_t threshold, T scale) {                  \
        uint32_t words[4][CALLS];                                                             \
        for (int64_t start = begin; start < end; start += BLOCK) {                            \
            uint64_t g0 = (uint64_t)(start / BLOCK) * CALLS;                                  \
            for (int j = 0; j < CALLS; j++) { /* independent iterations: vectorized */        \
                uint64_t g = g0 + (uint64_t)j;                                                \
                uint32_t c0 = (uint32_t)g, c1 = (uint32_t)(g >> 32), c2 = 0, c3 = 0;          \
                uint32_t a = k0, b = k1;                                                      \
                for (int r = 0; r < 10; r++) {                                                \
                    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2; \
                    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a;                              \
                    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b;                              \
                    c1 = (uint32_t)p1, c3 = (uint32_t)p0, c0 = n0, c2 = n2;                   \
                    a += 0x9E3779B9u, b += 0xBB67AE85u;                                       \
                }                                                                             \
                words[0][j] = c0, words[1][j] = c1, words[2][j] = c2, words[3][j] = c3;       \
            }                                                                                 \
            int64_t len = end - start < BLOCK ? end - start : BLOCK;                          \
            const T *xb = x + start;                                                          \
            T *yb = y + start;                                                                \
            for (int q = 0; q < 4; q++) {                                                     \
                const uint32_t *w = words[q];                                                 \
                int64_t off = (int64_t)q * CALLS;                                             \
                int64_t m = len - off < CALLS ? len - off : CALLS;                            \
                for (int64_t j = 0; j < m; j++)                                               \
                    yb[off + j] = xb[off + j] * (w[j] >= threshold ? scale : (T)0);           \
            }                                                                                 \
        }                                                                                     \
    }
DEFINE_APPLY(apply_f32, float)
DEFINE_APPLY(apply_f64, double)

typedef struct {
    const void *x;
    void *y;
    int64_t begin, end;
    uint32_t k0, k1, threshold;
    double scale;
    int is_double;
} job_t;

static void *run_job(void *arg) {
    job_t *j = (job_t *)arg;
    if (j->is_double)
        apply_f64(j->x, j->y, j->begin, j->end, j->k0, j->k1, j->threshold, j->scale);
    else
        apply_f32(j->x, j->y, j->begin, j->end, j->k0, j->k1, j->threshold, (float)j->scale);
    return NULL;
}

/* y[i] = x[i] * (word(seed, i) >= threshold ? scale : 0) for i < n; x == y is allowed (in place).
 * The work is split over num_threads threads in whole blocks, so the result does not depend on it. */
int d2l_dropout(const void *x, void *y, int64_t n, uint64_t seed, uint32_t threshold,
                double scale, int is_double, int num_threads) {
    enum { MAX_THREADS = 64 };
    job_t jobs[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int64_t blocks = (n + BLOCK - 1) / BLOCK;
    if (num_threads > blocks) num_threads = (int)blocks;
    if (num_threads > MAX_THREADS) num_threads = MAX_THREADS;
    if (num_threads < 1) num_threads = 1;
    for (int t = 0; t < num_threads; t++) {
        int64_t b0 = blocks * t / num_threads, b1 = blocks * (t + 1) / num_threads;
        job_t job = {x, y, b0 * BLOCK, b1 * BLOCK < n ? b1 * BLOCK : n, (uint32_t)seed,
                     (uint32_t)(seed >> 32), threshold, scale, is_double};
        jobs[t] = job;
    }
    int started = 0;
    for (int t = 1; t < num_threads; t++) {
        if (pthread_create(&threads[t], NULL, run_job, &jobs[t]) != 0) break;
        started = t;
    }
    for (int t = started + 1; t < num_threads; t++) run_job(&jobs[t]); /* threads refused */
    run_job(&jobs[0]);
    for (int t = 1; t <= started; t++) pthread_join(threads[t], NULL);
    return 0;
}

/* The 4 words of Philox4x32-10(counter, key), for known-answer tests. */
void d2l_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], a = key[0], b = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        a += 0x9E3779B9u;
        b += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}
