/* maild/mailcopy_report.c: the report mail of a mail data copy (SPEC §8), in the source manual's words:
 * the subject for success or for "please run it again", the reason and what to do, ja then en. */
#include "maild/mailcopy.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/queue.h"

#define SUBJECT_OK "【重要】メールデータコピーが完了いたしました。"
#define SUBJECT_AGAIN "【重要】メールデータコピーの再操作をお願いします。"

const char *
mailcopy_reason_code(enum mc_reason r)
{
	switch (r) {
	case MC_OK: return "ok";
	case MC_EMPTY: return "source_empty";
	case MC_QUOTA: return "quota";
	case MC_TOO_LARGE: return "too_large";
	case MC_UNREACHABLE: return "unreachable";
	case MC_LOGIN: return "source_login";
	case MC_TEMP: return "temporary";
	}
	return "temporary";
}

const char *
mailcopy_reason_text(enum mc_reason r)
{
	switch (r) {
	case MC_OK: return "The copy is complete.";
	case MC_EMPTY: return "The source server holds no mail, so nothing was copied.";
	case MC_QUOTA: return "The mailbox may be too small for the mail at the source; nothing was copied.";
	case MC_TOO_LARGE: return "The source holds messages over 100 MB; they were not copied.";
	case MC_UNREACHABLE: return "The source server could not be reached or does not offer IMAP.";
	case MC_LOGIN: return "The source server refused the login name or password.";
	case MC_TEMP: return "A temporary error occurred (for example the server's load).";
	}
	return "";
}

/* What the user reads: the reason and what to do, Japanese first. */
static void
reason_paragraphs(struct buf *b, const struct mc_report *r)
{
	switch (r->reason) {
	case MC_OK:
		buf_printf(b, "メールデータコピーが完了いたしました。\n"
		    "コピーしたメール: %lld 通（フォルダー %lld 個）\n"
		    "前回までにコピー済みのためスキップしたメール: %lld 通\n\n"
		    "The mail data copy is complete: %lld messages copied from %lld folders,\n"
		    "%lld skipped because an earlier run had copied them.\n",
		    (long long)r->copied, (long long)r->folders, (long long)r->skipped_seen,
		    (long long)r->copied, (long long)r->folders, (long long)r->skipped_seen);
		return;
	case MC_EMPTY:
		buf_adds(b, "理由: コピー元サーバーにメールが残っていないため、コピーを実行できませんでした。\n"
		    "対処: コピー元のサーバー名とメールアドレス（ログイン名）が正しいかご確認ください。\n\n"
		    "Reason: the source server holds no mail, so the copy was not run.\n"
		    "What to do: check the source server name and login.\n");
		return;
	case MC_QUOTA:
		buf_printf(b, "理由: コピー元のメールデータ容量が大きいため、メールボックスの容量が不足している可能性があります。\n"
		    "コピー元のメール: 約 %lld MB / メールボックスの空き容量: 約 %lld MB\n"
		    "対処: 管理者にメールボックス容量（mail_capacity）の変更を依頼するか、不要なメールを削除してから、"
		    "再度メールデータコピーを実行してください。メールはまだコピーされていません。\n\n"
		    "Reason: the mailbox may be too small for the mail at the source (about %lld MB to copy,\n"
		    "about %lld MB free). Nothing was copied.\n"
		    "What to do: ask your administrator for a larger quota, or delete mail you no longer need,\n"
		    "then run the copy again.\n",
		    (long long)((r->need_bytes + 1048575) / 1048576), (long long)(r->free_bytes / 1048576),
		    (long long)((r->need_bytes + 1048575) / 1048576), (long long)(r->free_bytes / 1048576));
		return;
	case MC_TOO_LARGE:
		buf_printf(b, "理由: コピー元に 100MB を超えるメールデータが %lld 通含まれているため、それらはコピーされませんでした。\n"
		    "その他のメール %lld 通のコピーは完了しています。\n"
		    "対処: 100MB を超えるメールは、メールソフトでコピー元から保存するなど、別の方法で移行してください。\n\n"
		    "Reason: %lld messages at the source are over 100 MB and were not copied; the other %lld\n"
		    "messages were copied.\n"
		    "What to do: move the large messages another way, e.g. save them with your mail program.\n",
		    (long long)r->too_large, (long long)r->copied, (long long)r->too_large, (long long)r->copied);
		return;
	case MC_UNREACHABLE:
		buf_adds(b, "理由: コピー元メールサーバーに接続できないか、IMAP に対応していないため、"
		    "メールデータコピーの対象外です。\n"
		    "対処: コピー元のメールサーバー名をご確認のうえ、IMAP で接続できるサーバーを指定して再度実行してください。\n\n"
		    "Reason: the source server could not be reached, or it does not offer IMAP.\n"
		    "What to do: check the server name and give a server that accepts IMAP, then run the copy again.\n");
		return;
	case MC_LOGIN:
		buf_adds(b, "理由: コピー元メールサーバーへのログインに失敗しました。\n"
		    "対処: コピー元のメールアドレス（ログイン名）とパスワードをご確認のうえ、再度実行してください。\n\n"
		    "Reason: the source server refused the login name or password.\n"
		    "What to do: check the source login and password, then run the copy again.\n");
		return;
	case MC_TEMP:
		buf_adds(b, "理由: メールサーバーの負荷状況などによりエラーが発生しました。\n"
		    "対処: しばらく時間をおいてから、再度メールデータコピーを実行してください。\n\n"
		    "Reason: an error occurred, for example because of the servers' load.\n"
		    "What to do: wait a while and run the copy again.\n");
		return;
	}
}

/* RFC 2047 encoded-words of at most 75 characters, cut between UTF-8 characters. */
static void
encoded_subject(struct buf *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	unsigned char out[128];

	buf_adds(b, "Subject:");
	while (i < n) {
		size_t take = n - i > 45 ? 45 : n - i;
		int len;

		while (take > 0 && i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		len = EVP_EncodeBlock(out, (const unsigned char *)s + i, (int)take);
		buf_printf(b, "%s=?UTF-8?B?%.*s?=", i == 0 ? " " : "\n ", len, (const char *)out);
		i += take;
	}
	buf_addc(b, '\n');
}

int
mailcopy_report(struct db *db, const struct config *cfg, const char *domain, const struct mc_report *r)
{
	struct buf b;
	struct queue_msg q;
	char date[64], from[300], rnd[17];
	const char *rcpts[1];
	time_t now = clock_now();
	struct tm tm;
	int rc = -1;

	(void)db;
	buf_init(&b);
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		date[0] = '\0';
	if (!random_hex(rnd, sizeof(rnd), 8))
		bstrcpy(rnd, sizeof(rnd), "0");
	bsnprintf(from, sizeof(from), "postmaster@%s", domain);
	buf_printf(&b, "From: %s\nTo: %s\nDate: %s\nMessage-ID: <mailcopy.%lld.%s@%s>\n", from, r->notify, date,
	    (long long)r->job_id, rnd, cfg->hostname);
	encoded_subject(&b, r->reason == MC_OK ? SUBJECT_OK : SUBJECT_AGAIN);
	buf_adds(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n");
	buf_printf(&b, "%s\n\n", r->reason == MC_OK ? SUBJECT_OK : SUBJECT_AGAIN);
	buf_printf(&b, "コピー元 / Source: %s (%s)\nコピー先 / Destination: %s\n\n", r->source_host,
	    r->source_login ? r->source_login : "", r->address);
	reason_paragraphs(&b, r);
	if (r->reason != MC_OK) {
		buf_adds(&b, "\nなお、再度コピーを実行する場合、前回コピーができなかったところから処理が再開されます。"
		    "前回コピーできたメールはスキップされ、二重にコピーされることはありません。\n"
		    "A new run resumes where this one stopped; messages already copied are skipped, never duplicated.\n");
	}
	if (r->detail[0] != '\0')
		buf_printf(&b, "\n(%s)\n", r->detail);
	if (b.oom)
		goto out;
	/* The null sender: a report is never answered with a bounce loop. */
	rcpts[0] = r->notify;
	if (queue_open(cfg, &q) != 0)
		goto out;
	if (queue_write(&q, b.data, b.len) != 0 || queue_commit(cfg, &q, "", rcpts, 1) != 0) {
		queue_abort(&q);
		goto out;
	}
	queue_kick();
	rc = 0;
out:
	if (rc != 0)
		log_warnx("mailcopy: the report to %s could not be queued", r->notify);
	buf_free(&b);
	return rc;
}
