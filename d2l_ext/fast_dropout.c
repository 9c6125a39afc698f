/* Dropout with counter-based random numbers (Philox4x32-10), for d2l_ext/fast_dropout.py.
 *
 * Whether element i is kept is a pure function of (seed, i): a uniform 32-bit number u(i) built
 * from Philox4x32-10 words (key = seed), compared with a threshold t: keep iff u(i) >= t. The
 * backward pass regenerates the mask instead of storing it; every thread count and instruction set
 * gives the same mask, and d2l_ext/fast_dropout.py computes the same bits with torch ops.
 *
 * u(i) = hi(i) * 2**16 + lo(i). The high half hi(i) is a 16-bit lane of a Philox call that serves
 * 8 elements; it alone decides unless hi(i) == t >> 16 (probability 2**-16), and only then is the
 * low half drawn, from a Philox call of its own: exact to 2**-32 at half the cost of 32 bits each.
 *
 * Plain C with a C ABI, called through ctypes: no Python or torch headers, compiles in a second.
 */
#include <pthread.h>
#include <stdint.h>

#define BLOCK 2048        /* elements per block; part of the mask's definition */
#define CALLS (BLOCK / 8) /* Philox calls per block: 4 words of two 16-bit lanes each */

/* GCC builds one copy per instruction set and picks the best at load time (glibc ifunc). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

#define PHILOX_ROUNDS(c0, c1, c2, c3, k0, k1)                                                  \
    do {                                                                                      \
        uint32_t a_ = (k0), b_ = (k1);                                                        \
        for (int r_ = 0; r_ < 10; r_++) {                                                     \
            uint64_t p0_ = (uint64_t)0xD2511F53u * c0, p1_ = (uint64_t)0xCD9E8D57u * c2;      \
            uint32_t n0_ = (uint32_t)(p1_ >> 32) ^ c1 ^ a_;                                   \
            uint32_t n2_ = (uint32_t)(p0_ >> 32) ^ c3 ^ b_;                                   \
            c1 = (uint32_t)p1_, c3 = (uint32_t)p0_, c0 = n0_, c2 = n2_;                       \
            a_ += 0x9E3779B9u, b_ += 0xBB67AE85u;                                             \
        }                                                                                     \
    } while (0)

/* The 4 words of Philox4x32-10(counter, key), for known-answer tests. */
void d2l_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    PHILOX_ROUNDS(c0, c1, c2, c3, key[0], key[1]);
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* lo(i): the high 16 bits of word 0 of Philox(counter = (i, 1, 0)); the 1 sets it apart from the
 * counters (g, 0, 0) of the high halves. */
static uint32_t low_half(uint64_t i, uint32_t k0, uint32_t k1) {
    uint32_t c0 = (uint32_t)i, c1 = (uint32_t)(i >> 32), c2 = 1, c3 = 0;
    PHILOX_ROUNDS(c0, c1, c2, c3, k0, k1);
    return c0 >> 16;
}

/* Layout of the high halves: element e of block b takes lane q % 2 (0 = low 16 bits) of word q / 2
 * of Philox call g = b * CALLS + j, with q = e / CALLS, j = e % CALLS, counter (g, 0, 0). The
 * words of CALLS consecutive calls thus cover contiguous runs of elements: every loop vectorizes.
 * Ties (hi == t >> 16) are first written as y = x, then settled by low_half: in place, that reads
 * the untouched input back. */
#define DEFINE_APPLY(NAME, T)                                                                  \
    MULTIVERSION static void NAME(const T *x, T *y, int64_t begin, int64_t end, uint32_t k0,   \
                                  uint32_t k1, uint32_t threshold, T scale) {                  \
        uint32_t words[4][CALLS];                                                             \
        const uint32_t t_hi = threshold >> 16, t_lo = threshold & 0xFFFFu;                    \
        for (int64_t start = begin; start < end; start += BLOCK) {                            \
            uint64_t g0 = (uint64_t)(start / BLOCK) * CALLS;                                  \
            for (int j = 0; j < CALLS; j++) { /* independent iterations: vectorized */        \
                uint64_t g = g0 + (uint64_t)j;                                                \
                uint32_t c0 = (uint32_t)g, c1 = (uint32_t)(g >> 32), c2 = 0, c3 = 0;          \
                PHILOX_ROUNDS(c0, c1, c2, c3, k0, k1);                                        \
                words[0][j] = c0, words[1][j] = c1, words[2][j] = c2, words[3][j] = c3;       \
            }                                                                                 \
            int64_t len = end - start < BLOCK ? end - start : BLOCK;                          \
            const T *xb = x + start;                                                          \
            T *yb = y + start;                                                                \
            for (int q = 0; q < 8; q++) {                                                     \
                const uint32_t *w = words[q / 2];                                             \
                const int shift = 16 * (q % 2);                                               \
                const int64_t off = (int64_t)q * CALLS;                                       \
                const int64_t m = len - off < CALLS ? len - off : CALLS;                      \
                int ties = 0;                                                                 \
                for (int64_t j = 0; j < m; j++) {                                             \
                    uint32_t hi = (w[j] >> shift) & 0xFFFFu;                                  \
                    T f = hi > t_hi ? scale : (hi == t_hi ? (T)1 : (T)0);                     \
                    ties |= hi == t_hi;                                                       \
                    yb[off + j] = xb[off + j] * f;                                            \
                }                                                                             \
                if (!ties) continue;                                                          \
                for (int64_t j = 0; j < m; j++) {                                             \
                    if (((w[j] >> shift) & 0xFFFFu) != t_hi) continue;                        \
                    uint64_t i = (uint64_t)(start + off + j);                                 \
                    yb[off + j] = yb[off + j] * (low_half(i, k0, k1) >= t_lo ? scale : (T)0); \
                }                                                                             \
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

/* y[i] = x[i] * (u(seed, i) >= threshold ? scale : 0) for i < n; x == y is allowed (in place).
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
