/* A stand-in for a Huashi-style termb library: CVR_* calls and Get* field getters returning GB2312
 * strings, with the card loaded by the tests through shim_termb_* controls. Synthetic data only. */
#include <string.h>

#define NFIELDS 12
static const char *NAMES[NFIELDS] = {
    "name", "sex", "nation_code", "nation", "birthday", "address",
    "id", "department", "start", "end", "cert_type", "chinese_name"};
static char g_fields[NFIELDS][256];
static unsigned char g_bmp[38862];
static int g_bmp_len = 0, g_port = 1001, g_open = 0, g_present = 0, g_read_done = 0, g_read_status = 1;

void shim_termb_field(const char *name, const char *value) {
    for (int i = 0; i < NFIELDS; i++)
        if (strcmp(NAMES[i], name) == 0) { strncpy(g_fields[i], value, 255); g_fields[i][255] = 0; }
}
void shim_termb_card(int present, const unsigned char *bmp, int bmp_len) {
    g_present = present; g_read_done = 0;
    g_bmp_len = bmp_len > (int)sizeof g_bmp ? (int)sizeof g_bmp : bmp_len;
    if (bmp && g_bmp_len > 0) memcpy(g_bmp, bmp, (size_t)g_bmp_len);
}
void shim_termb_configure(int port, int read_status) { g_port = port; g_read_status = read_status; }

int CVR_InitComm(int port) { if (port != g_port) return 2; g_open = 1; return 1; }
int CVR_CloseComm(void) { g_open = 0; return 1; }
int CVR_Authenticate(void) {
    if (!g_open) return 0;
    if (!g_present || g_read_done) return 2;
    return 1;
}
int CVR_Read_Content(int active) {
    (void)active;
    if (!g_open) return 0;
    if (g_read_status != 1) { g_present = 0; return g_read_status; }  /* the card went away mid-read */
    if (!g_present) return 0;
    g_read_done = 1;
    return 1;
}
int CVR_GetSAMID(char *out) { strcpy(out, "05.01-20120411-0002011994-0000000042"); return 1; }

static int get(int index, char *out, int *len) {
    int n = (int)strlen(g_fields[index]);
    if (n + 1 > *len) return 0;
    memcpy(out, g_fields[index], (size_t)n + 1); *len = n; return 1;
}
int GetPeopleName(char *o, int *l) { return get(0, o, l); }
int GetPeopleSex(char *o, int *l) { return get(1, o, l); }
int GetNationCode(char *o, int *l) { return get(2, o, l); }
int GetPeopleNation(char *o, int *l) { return get(3, o, l); }
int GetPeopleBirthday(char *o, int *l) { return get(4, o, l); }
int GetPeopleAddress(char *o, int *l) { return get(5, o, l); }
int GetPeopleIDCode(char *o, int *l) { return get(6, o, l); }
int GetDepartment(char *o, int *l) { return get(7, o, l); }
int GetStartDate(char *o, int *l) { return get(8, o, l); }
int GetEndDate(char *o, int *l) { return get(9, o, l); }
int GetCertType(char *o, int *l) { return get(10, o, l); }
int GetPeopleChineseName(char *o, int *l) { return get(11, o, l); }
int GetBMPData(unsigned char *out, int *len) {
    if (g_bmp_len == 0 || g_bmp_len > *len) return 0;
    memcpy(out, g_bmp, (size_t)g_bmp_len); *len = g_bmp_len; return 1;
}
