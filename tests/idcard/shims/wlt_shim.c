/* A stand-in for a vendor WLT decoder with the real signatures: Linux `int unpack(char*, char*, int)`
 * (also under its C++ name _Z6unpackPcS_i) and Windows-style `int GetBmp(char *wltFile, int intf)`.
 * It "decodes" by spreading the 1024 input bytes over a 102x126 RGB image (not the real codec). */
#include <stdio.h>
#include <string.h>

#define W 102
#define H 126

static int fill_rgb(const unsigned char *src, unsigned char *dst) {
    if (src[0] == 0xFF && src[1] == 0xFF) return -1;   /* a "corrupt" WLT for the error path */
    for (int i = 0; i < W * H * 3; i++) dst[i] = src[i % 1024];
    return 1;
}

int unpack(char *src, char *dst, int mode) {
    if (mode != 0) return -1;
    return fill_rgb((const unsigned char *)src, (unsigned char *)dst);
}
int _Z6unpackPcS_i(char *src, char *dst, int mode) { return unpack(src, dst, mode); }

static void put32(unsigned char *p, unsigned int v) { p[0]=v; p[1]=v>>8; p[2]=v>>16; p[3]=v>>24; }

int GetBmp(char *wlt_file, int intf) {
    size_t n = strlen(wlt_file);
    if (n < 4 || strcmp(wlt_file + n - 4, ".wlt") != 0) return -2;
    if (intf != 1 && intf != 2) return -6;
    FILE *in = fopen(wlt_file, "rb");
    if (!in) return -3;
    unsigned char wlt[1024];
    size_t got = fread(wlt, 1, sizeof wlt, in); fclose(in);
    if (got != 1024) return -4;
    static unsigned char rgb[W * H * 3];
    if (fill_rgb(wlt, rgb) != 1) return -1;
    char out_path[4096];
    if (n >= sizeof out_path) return -3;
    memcpy(out_path, wlt_file, n - 4); strcpy(out_path + n - 4, ".bmp");
    FILE *out = fopen(out_path, "wb");
    if (!out) return -3;
    unsigned char header[54] = {'B','M'};
    put32(header + 2, 54 + H * 308); put32(header + 10, 54); put32(header + 14, 40);
    put32(header + 18, W); put32(header + 22, H); header[26] = 1; header[28] = 24; put32(header + 34, H * 308);
    fwrite(header, 1, 54, out);
    unsigned char row[308];
    for (int y = H - 1; y >= 0; y--) {
        memset(row, 0, sizeof row);
        for (int x = 0; x < W; x++) {
            const unsigned char *px = rgb + (y * W + x) * 3;
            row[x*3] = px[2]; row[x*3+1] = px[1]; row[x*3+2] = px[0];
        }
        fwrite(row, 1, sizeof row, out);
    }
    fclose(out);
    return 1;
}
