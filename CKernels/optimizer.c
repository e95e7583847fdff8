// Optimizers as one fused, vectorised loop over (a chunk of) the flat parameter buffer.
#include <math.h>
#include "internal.h"

CK_INLINE void adam_body(float *param, const float *grad, float *m, float *v, int64_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float bc1,
                         float bc2_sqrt) {
    // PyTorch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; param -= (lr / (1 - b1^t)) * m / denom.
    float step = lr / bc1;
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i] + weight_decay * param[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
}
CK_VERSIONS(adam,
            (float *param, const float *grad, float *m, float *v, int64_t n, float lr, float beta1,
             float beta2, float eps, float weight_decay, float bc1, float bc2_sqrt),
            (param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2_sqrt))

void ck_adam_step(float *param, const float *grad, float *m, float *v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t) {
    float bc1 = (float)(1.0 - pow(beta1, (double)t));
    float bc2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)t));
    CK_DISPATCH(adam, (param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2_sqrt));
}

CK_INLINE void sgd_body(float *param, const float *grad, float *buf, int64_t n, float lr,
                        float momentum, float weight_decay, int first_step) {
    if (momentum == 0.0f) {
        for (int64_t i = 0; i < n; i++) param[i] -= lr * (grad[i] + weight_decay * param[i]);
    } else if (first_step) {
        for (int64_t i = 0; i < n; i++) {
            float g = grad[i] + weight_decay * param[i];
            buf[i] = g;
            param[i] -= lr * g;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float b = momentum * buf[i] + (grad[i] + weight_decay * param[i]);
            buf[i] = b;
            param[i] -= lr * b;
        }
    }
}
CK_VERSIONS(sgd,
            (float *param, const float *grad, float *buf, int64_t n, float lr, float momentum,
             float weight_decay, int first_step),
            (param, grad, buf, n, lr, momentum, weight_decay, first_step))

void ck_sgd_step(float *param, const float *grad, float *buf, int64_t n, float lr, float momentum,
                 float weight_decay, int first_step) {
    CK_DISPATCH(sgd, (param, grad, buf, n, lr, momentum, weight_decay, first_step));
}
