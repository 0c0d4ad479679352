#!/bin/sh
# Regenerates the demo IVR prompts (English and Russian) with espeak-ng and sox.
#
# Usage (from anywhere):  sh internal/demo/gen/prompts.sh [NAME ...]
# Needs:                  apt-get install -y espeak-ng sox
#
# espeak-ng writes 22050 Hz WAV; sox resamples it to 8 kHz mono signed 16-bit PCM,
# trims leading/trailing silence, keeps a short pad and normalises to -3 dBFS so all
# prompts have the same loudness. Output: internal/demo/prompts/{en,ru}/NAME.wav
# With NAMEs only those prompts are written (in both languages), so adding one
# prompt does not rewrite the others with whatever espeak-ng version is at hand.
#
# "beep" (the tone before a voicemail message) is not speech: sox synthesises it,
# 1 kHz for 300 ms, into both languages (prompts are looked up per language).
set -eu

for tool in espeak-ng sox; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "prompts.sh: $tool not found; install it with: apt-get install -y espeak-ng sox" >&2
		exit 1
	fi
done

out="$(cd "$(dirname "$0")/.." && pwd)/prompts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

only=" $* "

# wanted NAME: whether NAME is to be written this run.
wanted() {
	[ "$only" = "  " ] || case "$only" in *" $1 "*) true ;; *) false ;; esac
}

# say LANG VOICE NAME TEXT: speak TEXT with VOICE into $out/LANG/NAME.wav.
say() {
	lang=$1 voice=$2 name=$3 text=$4
	wanted "$name" || return 0
	mkdir -p "$out/$lang"
	espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
	sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$lang/$name.wav" \
		silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
		pad 0.1 0.15 gain -n -3
}

en() { say en en-us "$1" "$2"; }
ru() { say ru ru "$1" "$2"; }

en welcome "Thank you for calling Hotline technical support."
en choose-language "For English, press 1."
en main-menu "For technical support, press 1. For billing and subscriptions, press 2. For the status of an existing ticket, press 3. To speak to an operator, press 0."
en enter-serial "Please enter your product serial number, followed by the hash key. If you do not have it, just press hash."
en you-entered "You entered"
en enter-ticket "Please enter your ticket number, followed by the hash key."
en invalid "Sorry, that is not a valid choice."
en no-input "Sorry, we did not receive your choice."
en goodbye "Thank you for calling. Goodbye."
en connecting "Please hold while we connect you to the next available specialist."
en closed "Our support line is closed now."

ru welcome "Спасибо, что позвонили в службу технической поддержки Хотлайн."
ru choose-language "Для русского языка нажмите 2."
ru main-menu "Техническая поддержка: нажмите 1. Оплата и подписки: нажмите 2. Статус существующей заявки: нажмите 3. Чтобы поговорить с оператором, нажмите 0."
ru enter-serial "Введите серийный номер изделия и нажмите решётку. Если номера нет, просто нажмите решётку."
ru you-entered "Вы ввели"
ru enter-ticket "Введите номер заявки и нажмите решётку."
ru invalid "Извините, такого варианта нет."
ru no-input "Извините, мы не получили ваш выбор."
ru goodbye "Спасибо за звонок. До свидания."
ru connecting "Пожалуйста, оставайтесь на линии. Мы соединим вас с первым освободившимся специалистом."
ru closed "Сейчас служба поддержки закрыта."

# Queue announcements: position and estimated wait (numbers are read with the digit prompts).
en position-is "Your position in the queue is"
en wait-is "Your estimated waiting time in minutes is"
en wait-short "You will be connected in less than a minute."
en all-busy "All our specialists are busy right now. Please stay on the line."
en overflow "We are sorry, no specialist can take your call right now. Please call again later. Goodbye."
ru position-is "Ваш номер в очереди"
ru wait-is "Ожидаемое время ожидания в минутах"
ru wait-short "Мы соединим вас менее чем через минуту."
ru all-busy "Все специалисты сейчас заняты. Пожалуйста, оставайтесь на линии."
ru overflow "К сожалению, сейчас никто не может ответить на ваш звонок. Пожалуйста, позвоните позже. До свидания."

# Serial read-back: "you entered", the digits, then the confirmation.
en confirm-entry "To confirm, press 1. To enter it again, press 2."
ru confirm-entry "Для подтверждения нажмите 1. Чтобы ввести номер заново, нажмите 2."

# Ticket status: "ticket-status-is", a status word, then when it last changed
# ("updated" is followed by the number of days, digit by digit, and "days-ago").
en ticket-status-is "The status of your ticket is"
en status-new "new."
en status-open "open."
en status-pending "waiting for your reply."
en status-solved "solved."
en status-closed "closed."
en updated-today "It was last updated today."
en updated-yesterday "It was last updated yesterday."
en updated "It was last updated"
en days-ago "days ago."
en ticket-unknown "We could not find a ticket with that number for your phone number."
en try-later "Sorry, we cannot check tickets right now. Please try again later."
ru ticket-status-is "Статус вашей заявки:"
ru status-new "новая."
ru status-open "в работе."
ru status-pending "ожидает вашего ответа."
ru status-solved "решена."
ru status-closed "закрыта."
ru updated-today "Последнее изменение было сегодня."
ru updated-yesterday "Последнее изменение было вчера."
ru updated "Последнее изменение было"
ru days-ago "дней назад."
ru ticket-unknown "Мы не нашли заявку с таким номером для вашего номера телефона."
ru try-later "Извините, сейчас мы не можем проверить заявку. Попробуйте позже."

# Voicemail after hours: the prompt, the beep, the caller's message, the thanks.
en leave-message "Please leave a message after the tone. Press hash when you are done."
en voicemail-thanks "Thank you, your message was recorded. We will call you back."
ru leave-message "Оставьте сообщение после сигнала. Когда закончите, нажмите решётку."
ru voicemail-thanks "Спасибо, ваше сообщение записано. Мы вам перезвоним."
for lang in en ru; do
	if wanted beep; then
		mkdir -p "$out/$lang"
		sox -n -r 8000 -c 1 -b 16 -e signed-integer "$out/$lang/beep.wav" \
			synth 0.3 sine 1000 fade t 0.01 0.3 0.01 gain -n -3
	fi
done

# Digits, star and hash as spoken words (say_digits reads numbers back with these).
set -- zero one two three four five six seven eight nine
for d in 0 1 2 3 4 5 6 7 8 9; do
	en "digit-$d" "$1"
	shift
done
en star "star"
en hash "hash"

set -- ноль один два три четыре пять шесть семь восемь девять
for d in 0 1 2 3 4 5 6 7 8 9; do
	ru "digit-$d" "$1"
	shift
done
ru star "звёздочка"
ru hash "решётка"

echo "prompts.sh: wrote $(ls "$out"/en/*.wav "$out"/ru/*.wav | wc -l) files under $out"
