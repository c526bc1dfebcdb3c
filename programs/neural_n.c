/* neural_n [ROUNDS]: a 64-24-10 fixed-point neural network (weights trained offline by
 * programs/tools/gen_neural.py) classifying the 8x8 digit images embedded below; prints
 * each prediction and the accuracy.  ROUNDS > 1 repeats the classification (benchmark). */
#include "nda.h"
#include "neural_data.h"

static long classify(const unsigned char img[8])
{
    long hidden[NN_HIDDEN];
    for (int j = 0; j < NN_HIDDEN; j++) {
        long acc = nn_b1[j];
        const signed short *w = &nn_w1[j * NN_IN];
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                if (img[r] & (0x80 >> c))
                    acc += w[r * 8 + c];
        hidden[j] = acc > 0 ? acc : 0; /* ReLU, scale NN_SCALE */
    }
    long best = 0, best_v = 0;
    for (int k = 0; k < NN_OUT; k++) {
        long acc = (long)nn_b2[k] * NN_SCALE;
        for (int j = 0; j < NN_HIDDEN; j++)
            acc += nn_w2[k * NN_HIDDEN + j] * hidden[j];
        if (k == 0 || acc > best_v) {
            best_v = acc;
            best = k;
        }
    }
    return best;
}

int main(void)
{
    long rounds = nda_arg_long(1, 1), correct = 0;
    for (long r = 1; r < rounds; r++)
        for (int i = 0; i < NN_TESTS; i++)
            correct += classify(nn_images[i]) == nn_labels[i];
    correct = 0;
    nda_puts("predictions:");
    for (int i = 0; i < NN_TESTS; i++) {
        long p = classify(nn_images[i]);
        if (i % 25 == 0)
            nda_puts("\n ");
        nda_print_char(' ');
        nda_print_char('0' + p);
        nda_print_char(p == nn_labels[i] ? ' ' : '!');
        correct += p == nn_labels[i];
    }
    nda_puts("\naccuracy: ");
    nda_print_int(correct);
    nda_puts("/");
    nda_print_int(NN_TESTS);
    nda_puts(" = ");
    nda_print_int(correct * 100 / NN_TESTS);
    nda_puts("%\n");
    return 0;
}
