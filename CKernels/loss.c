// Fused log-softmax + NLL: one pass per row computes the log-probabilities, the loss and the
// gradient of the loss with respect to the logits.
#include <math.h>
#include "internal.h"

double ck_logsoftmax_nll(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                         float *logprobs, float *dlogits, float scale, int64_t *correct) {
    double total = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const float *z = logits + r * classes;
        float mx = z[0];
        int64_t arg = 0;
        for (int64_t k = 1; k < classes; k++)
            if (z[k] > mx) { mx = z[k]; arg = k; }
        float s = 0.0f;
        for (int64_t k = 0; k < classes; k++) s += expf(z[k] - mx);
        float lse = mx + logf(s);
        int32_t y = labels[r];
        if (correct && arg == y) (*correct)++;
        total -= (double)(z[y] - lse);
        if (logprobs)
            for (int64_t k = 0; k < classes; k++) logprobs[r * classes + k] = z[k] - lse;
        if (dlogits) {
            float *d = dlogits + r * classes;
            for (int64_t k = 0; k < classes; k++) d[k] = expf(z[k] - lse) * scale;
            d[y] -= scale;
        }
    }
    return total;
}
