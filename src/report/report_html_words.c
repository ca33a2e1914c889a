/*
 * report_html_words.c — the Chinese half of report.html's bilingual text:
 * data-type names, and a finding's reason and a promise's verdict said in
 * Chinese from the same facts report.json gives for the English sentence
 * (rule, strength, data type, recipient, jurisdiction, GeoIP answers,
 * coverage). The English sentence keeps the exact numbers and fields; the
 * Chinese one never states a fact the document does not hold.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_html_internal.h"

/* The data types of the policy vocabulary and of the signatures
 * (policy_load.c, signatures/identifiers.yaml): Chinese and English names. */
static const struct {
	const char *id, *zh, *en;
} type_names[] = {
	{"imei", "国际移动设备识别码", "IMEI"},
	{"meid", "移动设备识别码", "MEID"},
	{"imsi", "国际移动用户识别码", "IMSI"},
	{"iccid", "SIM卡识别码", "ICCID"},
	{"serial", "设备序列号", "device serial number"},
	{"android_id", "安卓设备标识符", "Android ID"},
	{"oaid", "匿名设备标识符", "OAID"},
	{"vaid", "开发者匿名设备标识符", "VAID"},
	{"aaid", "应用匿名设备标识符", "AAID"},
	{"gaid", "谷歌广告标识符", "Google advertising ID"},
	{"idfa", "广告标识符", "IDFA"},
	{"idfv", "应用开发商标识符", "IDFV"},
	{"openudid", "开放设备标识符", "OpenUDID"},
	{"mac", "MAC地址", "MAC address"},
	{"wifi_mac", "WLAN MAC地址", "Wi-Fi MAC address"},
	{"bssid", "Wi-Fi接入点标识", "Wi-Fi BSSID"},
	{"ssid", "Wi-Fi网络名称", "Wi-Fi SSID"},
	{"phone", "手机号码", "phone number"},
	{"email", "电子邮箱地址", "e-mail address"},
	{"location", "精确位置", "precise location"},
	{"cell_id", "基站信息", "cell tower ID"},
	{"app_list", "已安装应用列表", "installed app list"},
	{"contacts", "通讯录", "contacts"},
	{"ip", "IP地址", "IP address"},
	{"name", "姓名", "name"},
	{"account", "账号信息", "account"},
	{"device_model", "设备型号", "device model"},
	{"network_state", "网络状态", "network state"},
	{"storage", "存储内容", "storage"},
	{"documents", "文档", "documents"},
	{"face_image", "人脸图像", "face image"},
	{"audio_video", "音视频", "audio and video"},
	{"call_log", "通话记录", "call log"},
	{"usage_log", "使用日志", "usage log"},
	{"sensors", "传感器数据", "sensor data"},
	{"health", "健康信息", "health data"},
	{"payment_account", "支付账号", "payment account"},
	{"messages", "短信", "text messages"},
};

static size_t type_index(const char *type)
{
	for (size_t i = 0; type && i < sizeof type_names / sizeof type_names[0]; i++)
		if (!strcmp(type, type_names[i].id))
			return i;
	return (size_t)-1;
}

void h_data_type(struct html *h, const char *type)
{
	size_t i = type_index(type);
	if (!type || !type[0]) {
		h_raw(h, "<span class=\"muted\">\xe2\x80\x94</span>");
		return;
	}
	if (i == (size_t)-1) { /* a type without a name: its id says it all */
		h_raw(h, "<code>");
		h_text(h, type);
		h_raw(h, "</code>");
		return;
	}
	h_fmt(h, "%s <span class=\"en\">%s</span> <code class=\"small\">", type_names[i].zh,
	      type_names[i].en);
	h_text(h, type);
	h_raw(h, "</code>");
}

/* The type in a Chinese sentence: its name, or the id as given. */
static void type_words(struct html *h, const char *type)
{
	size_t i = type_index(type);
	if (i != (size_t)-1) {
		h_raw(h, type_names[i].zh);
		h_fmt(h, "\xef\xbc\x88%s\xef\xbc\x89", type_names[i].en); /* （…） */
	} else {
		h_raw(h, "<code>");
		h_text(h, type);
		h_raw(h, "</code>");
	}
}

static void host_words(struct html *h, const json_t *f)
{
	const char *host = json_string_value(json_array_get(j_get(f, "recipient.hosts"), 0));
	const char *name = j_str(f, "recipient.name");
	h_raw(h, "<code>");
	h_text_or_dash(h, host ? host : j_str(f, "recipient.id"));
	h_raw(h, "</code>");
	if (name) {
		h_raw(h, "\xef\xbc\x88"); /* （ */
		h_text(h, name);
		h_raw(h, "\xef\xbc\x89");
	}
}

static bool device_identifier(const char *type)
{
	static const char *const ids[] = {"imei", "meid", "imsi", "serial", "android_id", "oaid",
					  "gaid", "idfa", "idfv", "openudid", "aaid", "vaid"};
	for (size_t i = 0; type && i < sizeof ids / sizeof ids[0]; i++)
		if (!strcmp(type, ids[i]))
			return true;
	return false;
}

static void residency_zh(struct html *h, const json_t *f, bool conclusive, const char *type)
{
	const json_t *geo = j_get(f, "geo");
	if (!type) {
		h_raw(h, "向 ");
		host_words(h, f);
		h_raw(h, "（");
		h_text_or_dash(h, j_str(f, "jurisdiction"));
		h_raw(h, "）上传了超过阈值且内容无法读取的数据：疑似未经核实的出境传输。");
		return;
	}
	type_words(h, type);
	h_raw(h, "被发送至 ");
	host_words(h, f);
	if (j_str(geo, "ip")) {
		h_raw(h, "，地址 <code>");
		h_text(h, j_str(geo, "ip"));
		h_raw(h, "</code>");
	}
	h_raw(h, "，位于 ");
	h_text_or_dash(h, j_str(geo, "country") ? j_str(geo, "country") : j_str(f, "jurisdiction"));
	if (conclusive) {
		h_raw(h, "：该司法辖区不在隐私政策允许的范围内（仅中国大陆属于境内）。");
	} else if (!strcmp(j_str(geo, "plausibility.verdict") ? j_str(geo, "plausibility.verdict") : "",
			   "contradicted")) {
		h_raw(h, "；但握手往返时延短于光往返该国所需的时间，该国家在物理上不可信，故仅为指示性。");
	} else if (json_is_true(j_get(geo, "conflict"))) {
		h_raw(h, "；但各 GeoIP 数据库的答案不一致，往返时延也不能排除其他答案，故仅为指示性。");
	} else {
		h_raw(h, "；证据不足以下结论，仅为指示性。");
	}
}

void h_finding_reason_zh(struct html *h, const json_t *report, const json_t *f)
{
	const char *rule = j_str(f, "rule") ? j_str(f, "rule") : "";
	const char *type = j_str(f, "data_type");
	const char *kind = j_str(f, "recipient.kind") ? j_str(f, "recipient.kind") : "";
	bool conclusive = j_str(f, "strength") && !strcmp(j_str(f, "strength"), "conclusive");
	if (type && !type[0])
		type = NULL;
	if (!strcmp(rule, "residency")) {
		residency_zh(h, f, conclusive, type);
	} else if (!strcmp(rule, "encryption")) {
		const json_t *o = json_array_get(j_get(f, "observations"), 0);
		type_words(h, type);
		h_raw(h, "以明文");
		if (j_str(o, "protocol")) {
			h_raw(h, "（");
			h_text(h, j_str(o, "protocol"));
			if (j_str(o, "field")) {
				h_raw(h, "，字段 <code>");
				h_text(h, j_str(o, "field"));
				h_raw(h, "</code>");
			}
			h_raw(h, "）");
		}
		h_raw(h, "发送至 ");
		host_words(h, f);
		h_raw(h, "，而隐私政策承诺加密传输。");
	} else if (!strcmp(rule, "undeclared-recipient")) {
		if (!type) {
			h_raw(h, "与隐私政策未声明的第三方 ");
			host_words(h, f);
			h_raw(h, " 有通信，但未见个人信息，故仅为指示性。");
			return;
		}
		type_words(h, type);
		h_raw(h, "被发送至 ");
		host_words(h, f);
		if (!strcmp(kind, "mentioned"))
			h_raw(h, "：隐私政策提及该方，但从未声明其为个人信息的接收方。");
		else if (!strcmp(kind, "catalogued"))
			h_raw(h, "：隐私政策未列出该第三方；用户对隐私政策的同意只涵盖其列出的接收方。");
		else
			h_raw(h, "：它既不是第一方域名，也不是隐私政策列出的一方，且不在接收方目录中，故仅为指示性。");
	} else if (!strcmp(rule, "beyond-scope")) {
		type_words(h, type);
		h_raw(h, "被发送至已声明的第三方 ");
		host_words(h, f);
		h_raw(h, "，但隐私政策并未为其声明该类数据。");
	} else if (!strcmp(rule, "undeclared-type")) {
		type_words(h, type);
		if (conclusive && !strcmp(kind, "first-party"))
			h_raw(h, "被发送至第一方，而第一方并未声明收集该数据。");
		else if (conclusive)
			h_raw(h, "是隐私政策从未提及的数据类型。");
		else if (device_identifier(type))
			h_raw(h, "不在隐私政策列出的设备标识符之中，可能属于其笼统提及的“唯一设备识别码”，故仅为指示性。");
		else
			h_raw(h, "在隐私政策的词汇中没有对应的词，政策未将其列为所收集的数据，故仅为指示性。");
	} else if (!strcmp(rule, "before-consent")) {
		type_words(h, type);
		h_raw(h, "在用户同意之前即被发送至 ");
		host_words(h, f);
		if (j_str(report, "consent_at")) {
			h_raw(h, "（同意时刻 ");
			h_text(h, j_str(report, "consent_at"));
			h_raw(h, "）");
		}
		h_raw(h, "。");
	} else if (!strcmp(rule, "evasion")) {
		h_raw(h, "同一 TCP 流的字节以不同内容重复发送（在真实数据之前发送诱饵，或在乱序时替换分段）：接收方"
			 "可能接受其中任一副本，只保留一份副本的监测设备看到的数据与服务器不同。所有副本均已扫描。"
			 "仅为指示性：它说明流量被刻意构造以规避检测，而不说明其中的内容。");
	} else {
		h_text_or_dash(h, rule);
	}
}

/* The highest rate of the frequency table, in words (minimum necessary). */
static void top_rate_zh(struct html *h, const json_t *report)
{
	const json_t *top = NULL, *row;
	size_t i;
	json_array_foreach(j_get(report, "frequency"), i, row)
		if (!top || j_num(row, "rate_per_min", 0) > j_num(top, "rate_per_min", 0))
			top = row;
	if (!top) {
		h_raw(h, "未见个人信息，且没有数值上限。");
		return;
	}
	h_raw(h, "没有数值上限，请依据频率表判断（最高：");
	type_words(h, j_str(top, "data_type"));
	h_raw(h, " 发往 ");
	h_text_or_dash(h, j_str(top, "recipient"));
	h_fmt(h, "，%llu 次，每分钟 %.1f 次）。", (unsigned long long)j_u64(top, "count"),
	      j_num(top, "rate_per_min", 0));
}

void h_promise_why_zh(struct html *h, const json_t *report, const json_t *p)
{
	const char *status = j_str(p, "status") ? j_str(p, "status") : "";
	const char *promise = j_str(p, "promise") ? j_str(p, "promise") : "";
	uint64_t conclusive = j_u64(p, "conclusive"), indicative = j_u64(p, "indicative");
	char b[32];
	if (!strcmp(status, "contradicted")) {
		h_fmt(h, "%llu 项结论性发现", (unsigned long long)conclusive);
		if (indicative)
			h_fmt(h, "，另有 %llu 项指示性发现", (unsigned long long)indicative);
		h_raw(h, "。");
	} else if (!strcmp(status, "kept")) {
		h_raw(h, "未见违背，且所有可能构成违背的字节均已读取。");
	} else if (json_is_true(j_get(p, "coverage.needs_judgement"))) {
		top_rate_zh(h, report);
	} else if (indicative) {
		h_fmt(h, "%llu 项指示性发现：流量显示可能违背，但字节不能证明。", (unsigned long long)indicative);
	} else if (!strcmp(promise, "consent") && !j_str(report, "consent_at")) {
		h_fmt(h, "没有同意时刻：请给出 --consent-at 或发送 PRIVAUDIT-CONSENT 标记（%llu 项个人信息"
		      "无法判断在同意之前还是之后）。",
		      (unsigned long long)j_u64(report, "uninspected.pending_before_consent"));
	} else if (json_is_false(j_get(report, "coverage.device.seen"))) {
		h_raw(h, "从未见到被审计的设备：抓包文件或设备描述有误。");
	} else if (j_str(report, "coverage.input_incomplete")) {
		h_raw(h, "可读取的部分未见违背，但输入不完整。");
	} else if (j_u64(p, "coverage.flows")) {
		h_fmt(h, "可读取的部分未见违背，但有 %s 字节（%llu 条流）无法读取，其中可能隐藏违背。",
		      fmt_count(j_u64(p, "coverage.unread.total"), b, sizeof b),
		      (unsigned long long)j_u64(p, "coverage.flows"));
	} else if (!strcmp(promise, "residency")) {
		h_fmt(h, "%llu 项个人信息发往国家未知的目的地。",
		      (unsigned long long)j_u64(report, "uninspected.unknown_jurisdiction_observations"));
	} else {
		h_raw(h, "无法验证。");
	}
}
