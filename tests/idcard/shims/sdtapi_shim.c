/* A stand-in for a vendor sdtapi library: the SDT_* signatures a certified reader's SDK exports,
 * backed by a card the tests load through shim_* controls. Synthetic data only. */
#include <string.h>
#include <unistd.h>

static unsigned char g_text[256], g_photo[1024], g_fp[1024];
static unsigned int g_fp_len = 0;
static int g_present = 0, g_read_done = 0, g_selected = 0, g_open_port = 0;
static int g_usb_port = 1001;      /* the port the simulated device answers on */
static int g_read_status = 0x90;   /* forced SW3 for read calls */
static int g_delay_ms = 0;         /* a reader that stops answering */
static int g_remove_on_read = 0;   /* card pulled away during the read */

void shim_set_card(const unsigned char *text, const unsigned char *photo, const unsigned char *fp, unsigned int fp_len) {
    memcpy(g_text, text, 256); memcpy(g_photo, photo, 1024);
    g_fp_len = fp_len > 1024 ? 1024 : fp_len;
    if (fp && g_fp_len) memcpy(g_fp, fp, g_fp_len);
    g_present = 1; g_read_done = 0; g_selected = 0;
}
void shim_remove_card(void) { g_present = 0; g_read_done = 0; g_selected = 0; }
void shim_configure(int usb_port, int read_status, int delay_ms, int remove_on_read) {
    g_usb_port = usb_port; g_read_status = read_status; g_delay_ms = delay_ms; g_remove_on_read = remove_on_read;
}

static void maybe_hang(void) { if (g_delay_ms > 0) usleep((useconds_t)g_delay_ms * 1000); }

int SDT_OpenPort(int port) { if (port != g_usb_port) return 0x01; g_open_port = port; return 0x90; }
int SDT_ClosePort(int port) { if (port == g_open_port) g_open_port = 0; return 0x90; }
int SDT_GetSAMStatus(int port, int if_open) { (void)if_open; return port == g_open_port ? 0x90 : 0x01; }
int SDT_GetSAMID(int port, unsigned char *out, int if_open) {
    static const unsigned char id[16] = {5,0,1,0, 0x5B,0x03,0x33,0x01, 0x5A,0xB3,0x1E,0x00, 0x2A,0,0,0};
    (void)if_open; if (port != g_open_port) return 0x01; memcpy(out, id, 16); return 0x90;
}
int SDT_StartFindIDCard(int port, unsigned char *iin, int if_open) {
    (void)if_open; maybe_hang();
    if (port != g_open_port) return 0x01;
    if (!g_present || g_read_done) return 0x80;
    memset(iin, 0, 4); return 0x9F;
}
int SDT_SelectIDCard(int port, unsigned char *sn, int if_open) {
    (void)if_open; if (port != g_open_port) return 0x01;
    if (!g_present) return 0x81;
    memset(sn, 0, 8); g_selected = 1; return 0x90;
}
static int read_common(int port, unsigned char *text, unsigned int *tl, unsigned char *photo, unsigned int *pl) {
    if (port != g_open_port) return 0x01;
    if (g_remove_on_read) { g_present = 0; g_selected = 0; }
    if (g_read_status != 0x90) return g_read_status;
    if (!g_present || !g_selected) return 0x41;
    memcpy(text, g_text, 256); *tl = 256; memcpy(photo, g_photo, 1024); *pl = 1024;
    g_read_done = 1; return 0x90;
}
int SDT_ReadBaseMsg(int port, unsigned char *text, unsigned int *tl, unsigned char *photo, unsigned int *pl, int if_open) {
    (void)if_open; return read_common(port, text, tl, photo, pl);
}
int SDT_ReadBaseFPMsg(int port, unsigned char *text, unsigned int *tl, unsigned char *photo, unsigned int *pl,
                      unsigned char *fp, unsigned int *fl, int if_open) {
    int sw = read_common(port, text, tl, photo, pl); (void)if_open;
    if (sw == 0x90) { memcpy(fp, g_fp, g_fp_len); *fl = g_fp_len; }
    return sw;
}
